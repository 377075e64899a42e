"""``triage keys create|list|revoke`` on a real SQLite file and a real PostgreSQL database,
and the created key used against the app on the same database."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from service.database import Database
from tests.fixtures.scratch_postgres import scratch_database
from tests.service.conftest import POSTGRES_ADMIN_URL
from training.cli import app as cli

runner = CliRunner()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{(tmp_path / 'keys.db').as_posix()}"


@pytest.fixture(scope="module")
def hardening_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this module's own (``triage_hardening_access_*``)."""
    with scratch_database(POSTGRES_ADMIN_URL, prefix="triage_hardening_access") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(
        "sqlite_url" if request.param == "sqlite" else "hardening_postgres_url"
    )
    return url


def _keys(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["keys", *args])
    return result.exit_code, result.stdout, result.stderr


def test_create_prints_the_key_once_and_stores_only_its_hash(database_url: str) -> None:
    name = f"bot-{uuid.uuid4().hex[:6]}"
    code, out, err = _keys(
        "create", "--name", name, "--scopes", "triage,kb:read", "--rate-per-minute", "30",
        "--database-url", database_url,
    )  # fmt: skip
    assert code == 0, err
    key = out.strip()
    assert key.startswith("tri_") and len(key) > 40 and "not shown again" in err

    database = Database(database_url)
    try:
        with database.engine.connect() as conn:
            rows = conn.execute(text("SELECT name, key_hash FROM api_keys")).all()
    finally:
        database.close()
    stored = dict(rows)[name]
    assert key not in stored and len(stored) == 64

    code, out, _ = _keys("list", "--json", "--database-url", database_url)
    listed = {k["name"]: k for k in json.loads(out)}[name]
    assert listed["scopes"] == ["triage", "kb:read"] and listed["rate_per_minute"] == 30
    assert listed["revoked_at"] is None and key not in out

    code, out, _ = _keys("revoke", name, "--database-url", database_url)
    assert code == 0
    code, out, _ = _keys("list", "--json", "--database-url", database_url)
    assert {k["name"]: k for k in json.loads(out)}[name]["revoked_at"] is not None


def test_create_refuses_an_unknown_scope_and_a_taken_name(database_url: str) -> None:
    code, _, err = _keys(
        "create", "--name", "x", "--scopes", "triage,root", "--database-url", database_url
    )
    assert code == 2 and "root" in err
    name = f"dup-{uuid.uuid4().hex[:6]}"
    assert (
        _keys("create", "--name", name, "--scopes", "stats", "--database-url", database_url)[0] == 0
    )
    code, _, err = _keys(
        "create", "--name", name, "--scopes", "stats", "--database-url", database_url
    )
    assert code == 2 and "already exists" in err


def test_revoking_an_unknown_key_says_so(database_url: str) -> None:
    code, _, err = _keys("revoke", "nobody-by-this-name", "--database-url", database_url)
    assert code == 2 and "nobody-by-this-name" in err


def test_a_created_key_works_until_revoked(
    app_client: Callable[..., AbstractContextManager[TestClient]], tmp_path: Path
) -> None:
    # The app's own database (the module's tiny resources) is where the CLI writes.
    with app_client(api_key_cache_s=0.0) as client:
        url = str(client.app.state.resources.database.url.render_as_string(hide_password=False))  # type: ignore[attr-defined]
        name = f"agent-{uuid.uuid4().hex[:6]}"
        code, out, _ = _keys("create", "--name", name, "--scopes", "stats", "--database-url", url)
        assert code == 0
        headers = {"X-API-Key": out.strip()}
        assert client.get("/v1/stats", headers=headers).status_code == 200
        assert client.get("/v1/stats").status_code == 401
        assert client.post("/v1/triage", json={"text": "hi"}, headers=headers).status_code == 403
        assert _keys("revoke", name, "--database-url", url)[0] == 0
        # The last key revoked: the API stays closed (it does not fall back to open).
        assert client.get("/v1/stats", headers=headers).status_code == 401

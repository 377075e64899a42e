"""`triage insights emerging` over a real service database."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from service.resources import Resources
from tests.service.insights.traffic import NOW, background, burst
from training.cli import app


def test_table_and_json_show_the_burst(
    tmp_path: Path, build_tiny_resources: Callable[..., AbstractContextManager[Resources]]
) -> None:
    with build_tiny_resources(tmp_path / "var") as resources:
        background(resources)
        burst(resources)
        url = resources.settings.resolved_database_url
    until = (NOW + timedelta(minutes=1)).isoformat()
    runner = CliRunner()
    table = runner.invoke(app, ["insights", "emerging", "--database-url", url, "--until", until])
    assert table.exit_code == 0, table.output
    assert "theme " in table.output and "locker" in table.output
    assert "6 messages" in table.output
    as_json = runner.invoke(
        app, ["insights", "emerging", "--database-url", url, "--until", until, "--json"]
    )
    [theme] = json.loads(as_json.output)["themes"]
    assert theme["size"] == 6
    wrong = runner.invoke(
        app, ["insights", "emerging", "--database-url", url, "--since", until, "--until", until]
    )
    assert wrong.exit_code == 2 and "--until must be after --since" in wrong.output

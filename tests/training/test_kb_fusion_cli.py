"""`triage kb ingest | tune-fusion | evaluate` without --index: the service's database.

Ingesting a folder carries its recorded weights (``fusion.json``) into the database once;
tune-fusion chooses on development queries and records the choice there (not with
--dry-run); evaluate measures what the service searches with.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kb_index.fusion_choice import FusionChoice, write_fusion_file
from kb_index.hybrid_retriever import FusionConfig
from kb_index.kb_document_store import KbDocumentStore
from service.database import Database
from training.cli import app

runner = CliRunner()
ARTICLES = {
    "gift-wrapping": ("Gift wrapping", "Presents leave in recycled paper with a ribbon."),
    "returns": ("Returns", "Send items back within 30 days for a full refund."),
    "delivery": ("Delivery times", "Parcels arrive in two to four working days."),
    "password": ("Password reset", "Use the link on the sign-in page to choose a new password."),
}
QUERIES = [
    ("can you wrap my present", "gift-wrapping"),
    ("how do I send something back", "returns"),
    ("when will my parcel arrive", "delivery"),
    ("I forgot my password", "password"),
    ("refund for a returned item", "returns"),
]
CARRIED = FusionConfig(dense_weight=0.7, title_weight=0.15, title_dense_weight=0.25)


def _collection(folder: Path) -> Path:
    folder.mkdir()
    for doc_id, (title, text) in ARTICLES.items():
        (folder / f"{doc_id}.md").write_text(f"# {title}\n\n{text}\n", encoding="utf-8")
    (folder / "dev_queries.jsonl").write_text(
        "".join(json.dumps({"query": q, "relevant": [r]}) + "\n" for q, r in QUERIES)
    )
    write_fusion_file(folder / "fusion.json", FusionChoice(CARRIED, source="api"))
    return folder


def _last_json(output: str) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return parsed


@pytest.mark.encoder
def test_ingest_tune_and_evaluate_work_on_the_services_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TRIAGE_KB_SEED_SAMPLE", "false")
    folder = _collection(tmp_path / "articles")
    dev = str(folder / "dev_queries.jsonl")

    ingested = runner.invoke(app, ["kb", "ingest", str(folder)])
    assert ingested.exit_code == 0, ingested.output
    assert "fusion weights from fusion.json" in ingested.output
    database = Database(f"sqlite:///{(tmp_path / 'var' / 'triage.db').as_posix()}")
    store = KbDocumentStore(database.engine)
    try:
        [carried] = store.fusion_history()
        assert (carried.fusion, carried.source, carried.actor) == (CARRIED, "import", "system:cli")
        # Ingesting the same folder again records nothing new.
        assert runner.invoke(app, ["kb", "ingest", str(folder)]).exit_code == 0
        assert len(store.fusion_history()) == 1

        dry = runner.invoke(app, ["kb", "tune-fusion", "--queries", dev, "--dry-run", "--json"])
        assert dry.exit_code == 0, dry.output
        assert len(store.fusion_history()) == 1

        tuned = runner.invoke(app, ["kb", "tune-fusion", "--queries", dev, "--json"])
        assert tuned.exit_code == 0, tuned.output
        choice = _last_json(tuned.output)
        hybrid = choice["hybrid"]
        assert isinstance(hybrid, dict)
        for mode in ("dense", "bm25", "title"):
            single = choice[mode]
            assert isinstance(single, dict) and hybrid["recall@1"] >= single["recall@1"], mode
        current = store.fusion_since(0)
        assert current is not None and current.source == "tune-fusion"
        assert current.fusion.to_json() == choice["fusion"]
        assert current.queries is not None and current.queries.count == len(QUERIES)
        assert current.figures["hybrid"] == hybrid

        evaluated = runner.invoke(
            app, ["kb", "evaluate", "--queries", dev, "--mode", "all", "--json"]
        )
        assert evaluated.exit_code == 0, evaluated.output
        figures = _last_json(evaluated.output)
        assert figures["fusion"] == choice["fusion"]
        assert figures["hybrid"] == hybrid
    finally:
        database.close()

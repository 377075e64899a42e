"""`triage retrain`: corrected intents from the feedback export go into the training data."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from service.database import Database
from service.drafting.draft import Draft, DraftSet
from service.feedback.feedback_store import FeedbackInput, FeedbackStore, SuggestionContext
from training.cli import app
from training.datasets import read_labelled_csv
from training.feedback_retrain import merge_corrections, read_corrections

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def export_feedback(tmp_path: Path, items: list[tuple[str, str | None, str]]) -> Path:
    """Run real suggestions and feedback through the store and export them as JSONL."""
    database = Database(f"sqlite:///{(tmp_path / 'triage.db').as_posix()}")
    database.migrate()
    store = FeedbackStore(database)
    try:
        for i, (message, correct, outcome) in enumerate(items):
            set_id = f"{i:032d}"
            drafts = DraftSet(
                id=set_id,
                drafts=(Draft(f"{set_id}-1", "Hello", (), False, 0.1),),
                passages=(),
                needs_agent=True,
                relevance=0.1,
                generator="holding",
            )
            context = SuggestionContext(message, "email", "suggest", intent="track_order")
            store.record(decision=None, drafts=drafts, context=context, now=T0)
            # An edited draft always comes with the text that was sent (the store checks).
            final_text = "Hello, here is your answer." if outcome == "edited" else None
            store.add_feedback(
                FeedbackInput(set_id, outcome, final_text=final_text, correct_intent=correct),
                now=T0 + timedelta(minutes=i),
            )
        path = tmp_path / "feedback.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for line in store.open_export():  # as GET /v1/feedback/export sends it
                fh.write(json.dumps(line) + "\n")
        return path
    finally:
        database.close()


def test_corrections_relabel_known_messages_and_add_new_ones(tmp_path: Path) -> None:
    base = read_labelled_csv(
        FIXTURES / "intents_tiny.csv", text_column="text", label_column="label"
    )
    existing = base.texts[0]
    path = export_feedback(
        tmp_path,
        [
            (existing, "get_refund", "rejected"),
            ("i want my money back for the broken kettle", "get_refund", "rejected"),
            ("where is it", None, "accepted"),  # no correction: not training data
            ("please sell me a unicorn", "buy_unicorn", "rejected"),  # unknown label
            ("i want my money back for the broken kettle", "track_order", "rejected"),
        ],
    )
    corrections = read_corrections(path)
    assert len(corrections) == 4
    merged, report = merge_corrections(base, corrections)
    assert report.to_json() == {
        "corrections": 4,
        "added": 1,
        "relabelled": 1,
        "unchanged": 0,
        "skipped_unknown_label": 1,
    }
    rows = dict(zip(merged.texts, merged.labels, strict=True))
    assert rows[existing] == "get_refund"
    # The latest correction of a message wins.
    assert rows["i want my money back for the broken kettle"] == "track_order"
    assert len(merged) == len(base) + 1 and merged.sha256 != base.sha256


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh TRIAGE_DATA_DIR (model registry, reports) for one test."""
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("TRIAGE_MODEL_REGISTRY_DIR", raising=False)
    return tmp_path / "var"


@pytest.mark.encoder
def test_retrain_command_writes_an_artifact_recording_the_feedback(
    tmp_path: Path, data_dir: Path
) -> None:
    path = export_feedback(
        tmp_path, [("my refund never showed up on my card", "get_refund", "edited")]
    )
    out = tmp_path / "model"
    result = CliRunner().invoke(
        app,
        [
            "retrain",
            "--feedback",
            str(path),
            "--data",
            str(FIXTURES / "intents_tiny.csv"),
            "--category-column",
            "category",
            "--negatives",
            str(FIXTURES / "negatives_tiny.csv"),
            "--out",
            str(out),
            "--version",
            "2.0.0",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["version"] == "2.0.0"
    feedback = manifest["training_data"]["feedback"]
    assert feedback["added"] == 1 and feedback["path"] == str(path)
    with (FIXTURES / "intents_tiny.csv").open(newline="", encoding="utf-8") as fh:
        base_rows = sum(1 for _ in csv.DictReader(fh))
    # The held-out rows judge the candidate and never train it.
    held_out = manifest["training_data"]["holdout"]["rows"]
    assert 0 < held_out < base_rows
    assert manifest["training_data"]["rows"] + held_out == base_rows + 1


def test_retrain_rejects_a_broken_feedback_file(tmp_path: Path, data_dir: Path) -> None:
    bad = tmp_path / "feedback.jsonl"
    bad.write_text('{"text": "x", "correct_intent": "get_refund"}\nnot json\n', encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "retrain",
            "--feedback",
            str(bad),
            "--data",
            str(FIXTURES / "intents_tiny.csv"),
            "--out",
            str(tmp_path / "model"),
        ],
    )
    assert result.exit_code == 2
    assert "feedback.jsonl:2" in result.output
    assert not data_dir.exists()  # refused before anything was written


def test_retrain_rejects_an_export_missing_records(tmp_path: Path) -> None:
    path = export_feedback(
        tmp_path,
        [("Where is my parcel?", "track_order", "rejected"), ("Refund?", "get_refund", "edited")],
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1]) == {"export_complete": True, "rows": 2}
    path.write_text("\n".join([lines[0], lines[-1]]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "retrain",
            "--feedback",
            str(path),
            "--data",
            str(FIXTURES / "intents_tiny.csv"),
            "--out",
            str(tmp_path / "model"),
        ],
    )
    assert result.exit_code == 2
    assert "incomplete" in result.output


def test_a_correction_trains_on_the_text_the_service_classifies(tmp_path: Path) -> None:
    from models.message_analyzer import MessageAnalyzer

    message = (
        "Where is my parcel? It should have come on Monday.\n\n"
        "On Mon, 16 Nov 2026, Shop <help@shop.example> wrote:\n"
        "> Your refund has been processed and the invoice is attached.\n"
    )
    path = export_feedback(tmp_path, [(message, "track_order", "rejected")])
    [correction] = read_corrections(path)
    assert correction.text == MessageAnalyzer().analyze(message).focus_text
    assert "refund" not in correction.text and "Where is my parcel?" in correction.text


DAMAGED = [
    "the kettle arrived broken, I want my money back",
    "my lamp came smashed, please refund me",
    "the mug arrived cracked, can I get a refund",
    "broken on arrival, money back please",
    "the vase was shattered when it came, refund it",
    "the toaster arrived dented and broken, I want a refund",
    "the glasses came in pieces, return my money",
    "arrived damaged, I'd like my money back",
    "the chair came with a snapped leg, refund please",
    "my headphones arrived broken, give me a refund",
]


def _retrain(feedback: Path, data: Path, tmp_path: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        app,
        [
            "retrain",
            "--feedback",
            str(feedback),
            "--data",
            str(data),
            "--category-column",
            "category",
            "--negatives",
            str(FIXTURES / "negatives_tiny.csv"),
            "--report",
            str(tmp_path / "report"),
            "--holdout-size",
            "0.3",
            *extra,
        ],
    )


@pytest.fixture
def tiny_active(tmp_path: Path, data_dir: Path) -> str:
    """A tiny intent model on the real encoder, registered and active."""
    runner = CliRunner()
    out = tmp_path / "active"
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(FIXTURES / "intents_tiny.csv"),
            "--category-column",
            "category",
            "--negatives",
            str(FIXTURES / "negatives_tiny.csv"),
            "--out",
            str(out),
            "--name",
            "tiny",
            "--version",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["models", "register", "intent", str(out), "--promote"])
    assert result.exit_code == 0, result.output
    return _active_intent(data_dir)


def _active_intent(data_dir: Path) -> str:
    from models.model_registry import ModelRegistry

    entry = ModelRegistry(data_dir / "registry").active("intent")
    assert entry is not None
    return entry.version


@pytest.mark.encoder
def test_retrain_promotes_a_candidate_that_fixes_corrected_messages(
    tmp_path: Path, data_dir: Path, tiny_active: str
) -> None:
    feedback = export_feedback(tmp_path, [(m, "get_refund", "rejected") for m in DAMAGED])
    result = _retrain(feedback, FIXTURES / "intents_tiny.csv", tmp_path, "--promote")
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    report = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "accuracy on held-out corrections" in report
    if "## Verdict: **promote**" in report:
        assert result.exit_code == 0, result.output
        assert "promoted: intent" in result.output
        assert _active_intent(data_dir) != tiny_active
    else:  # the gate said no: the reasons are printed and nothing changed
        assert result.exit_code == 1, result.output
        assert "refused; the active model stays" in result.output
        assert _active_intent(data_dir) == tiny_active
    for image in ("per_intent_f1.png", "confusion_change.png", "calibration.png"):
        assert (tmp_path / "report" / image).is_file()


@pytest.mark.encoder
def test_retrain_refuses_a_worse_candidate_and_keeps_the_active_model(
    tmp_path: Path, data_dir: Path, tiny_active: str
) -> None:
    # Careless corrections: all password-reset messages but two "corrected" to
    # track_order. Judged on the original labels (--holdout), the candidate loses
    # recover_password and the gate must say so.
    base = read_labelled_csv(
        FIXTURES / "intents_tiny.csv", text_column="text", label_column="label"
    )
    rows = zip(base.texts, base.labels, strict=True)
    wrong = [text for text, label in rows if label == "recover_password"]
    feedback = export_feedback(tmp_path, [(t, "track_order", "rejected") for t in wrong[2:]])
    result = _retrain(
        feedback,
        FIXTURES / "intents_tiny.csv",
        tmp_path,
        "--holdout",
        str(FIXTURES / "intents_tiny.csv"),
        "--promote",
        "--max-intent-drop",
        "0.1",
    )
    assert result.exit_code == 1, result.output
    assert "refused; the active model stays" in result.output
    assert "recover_password: F1" in result.output
    assert _active_intent(data_dir) == tiny_active
    report = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "## Verdict: **keep the active model**" in report

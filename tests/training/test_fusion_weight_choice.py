"""The lexical fusion weight is chosen by held-out log-loss, not by accuracy (the former
rule stays available to rebuild models made with it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from training.cli import app as cli_app
from training.intent_training import choose_fusion_weight

GRID = (0.0, 1.0, 2.0, 3.0, 5.0, 8.0)


def _rows(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both heads pick the same intent on every row (right on 80 %), so accuracy is the same
    at every weight; only the lexical margin tells right rows (wide) from wrong ones
    (narrow)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    right = rng.uniform(size=n) < 0.8
    picked = np.where(right, y, (y + 1 + rng.integers(0, 2, n)) % 3)
    rows = np.arange(n)
    logits = np.zeros((n, 3))
    logits[rows, picked] = 1.0
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    lex = np.zeros((n, 3))
    lex[rows, picked] = np.where(right, 3.0, 0.2)
    return log_p, lex, y


def test_fusion_weight_prefers_better_probabilities_when_accuracy_ties() -> None:
    log_p, lex, y = _rows()
    choice = choose_fusion_weight(log_p, lex, y, GRID)
    assert len(set(choice.accuracy.values())) == 1  # accuracy cannot tell the weights apart
    # The former rule (smallest weight within 0.25 point of the best accuracy) took 0 here.
    assert choice.weight > 0
    assert choice.log_loss[choice.weight] == min(choice.log_loss.values())
    assert choice.log_loss[choice.weight] < choice.log_loss[0.0] - 0.05


def test_fusion_weight_without_lexical_head_is_zero() -> None:
    log_p, _, y = _rows()
    choice = choose_fusion_weight(log_p, None, y, GRID)
    assert choice.weight == 0.0
    assert list(choice.log_loss) == [0.0]
    assert choice.accuracy[0.0] == pytest.approx(0.8, abs=0.06)


def test_the_former_rule_takes_the_smallest_weight_near_the_best_accuracy() -> None:
    log_p, lex, y = _rows()
    choice = choose_fusion_weight(log_p, lex, y, GRID, rule="accuracy_tolerance")
    assert choice.weight == 0.0  # every weight ties on accuracy here
    assert choose_fusion_weight(log_p, lex, y, GRID).weight > 0


def test_train_refuses_an_unknown_fusion_rule(tmp_path: Path) -> None:
    data = tmp_path / "intents.csv"
    data.write_text("text,label\nwhere is my order,track\nrefund me,refund\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli_app,
        ["train", "--data", str(data), "--fusion-rule", "accuracy", "--out", str(tmp_path / "m")],
    )
    assert result.exit_code != 0
    assert "--fusion-rule must be one of log_loss, accuracy_tolerance" in result.output
    assert not (tmp_path / "m").exists()

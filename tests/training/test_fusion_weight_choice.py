"""The lexical fusion weight is chosen by held-out log-loss, not by accuracy."""

from __future__ import annotations

import numpy as np
import pytest

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

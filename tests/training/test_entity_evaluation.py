"""The entity extractor meets its target on the Bitext span annotations."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.entity_evaluation import evaluate_spans, read_bitext_spans

pytestmark = pytest.mark.data


def test_order_id_exact_span_f1_on_bitext_is_at_least_0_97(shared_data: Path) -> None:
    report = evaluate_spans(read_bitext_spans(shared_data / "bitext_customer_support.csv"))
    order = report.scores["order_id"]
    assert order.tp + order.fn >= 400  # the annotations were read, not an empty file
    assert order.f1 >= 0.97, (order.precision, order.recall)
    assert report.scores["invoice_id"].f1 >= 0.95

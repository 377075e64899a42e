"""Evaluation reports a person would rather read: Markdown tables and a confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from training.evaluation import EvaluationReport
from training.promotion_gate import ModelScores, Verdict

IntArray = npt.NDArray[Any]


def plot_confusion_matrix(report: EvaluationReport, path: Path, *, title: str) -> None:
    """Row-normalised confusion matrix as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.array(report.confusion, dtype=np.float64)
    rows = cm.sum(axis=1, keepdims=True)
    norm = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    n = len(report.labels)
    size = max(6.0, min(0.28 * n + 3, 40.0))
    fig, ax = plt.subplots(figsize=(size, size))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), report.labels, rotation=90, fontsize=7 if n > 40 else 9)
    ax.set_yticks(range(n), report.labels, fontsize=7 if n > 40 else 9)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if n <= 30:
        for i in range(n):
            for j in range(n):
                if cm[i, j]:
                    ax.text(
                        j,
                        i,
                        str(int(cm[i, j])),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if norm[i, j] > 0.5 else "black",
                    )
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_markdown_report(
    report: EvaluationReport, folder: Path, *, title: str, context: dict[str, str]
) -> Path:
    """Write ``report.md`` and ``confusion_matrix.png`` into ``folder``; returns the .md path."""
    folder.mkdir(parents=True, exist_ok=True)
    plot_confusion_matrix(report, folder / "confusion_matrix.png", title=title)
    lines = [f"# {title}", ""]
    lines += [f"- **{k}**: {v}" for k, v in context.items()]
    lines += ["", "## Headline", "", "| metric | value |", "|---|---|"]
    for key, value in report.summary().items():
        lines.append(
            f"| {key} | {value:.4f} |" if isinstance(value, float) else f"| {key} | {value} |"
        )
    if report.oos_precision is not None:
        lines.append(f"| oos_precision | {report.oos_precision:.4f} |")
    lines += [
        "",
        "## Per class",
        "",
        "| label | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for c in sorted(report.per_class, key=lambda c: c.f1):
        lines.append(
            f"| {c.label} | {c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} | {c.support} |"
        )
    lines += ["", "## Confusion matrix", "", "![confusion matrix](confusion_matrix.png)", ""]
    confusions = []
    cm = np.array(report.confusion)
    for i, true in enumerate(report.labels):
        for j, pred in enumerate(report.labels):
            if i != j and cm[i, j]:
                confusions.append((int(cm[i, j]), true, pred))
    if confusions:
        lines += [
            "### Most frequent confusions",
            "",
            "| count | true | predicted |",
            "|---|---|---|",
        ]
        lines += [f"| {n} | {t} | {p} |" for n, t, p in sorted(confusions, reverse=True)[:20]]
        lines.append("")
    path = folder / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def confusion_change(
    gold: Sequence[str], active: Sequence[str], candidate: Sequence[str]
) -> tuple[list[str], IntArray]:
    """Candidate minus active confusion counts, over the labels where anything changed
    (rows: true label, columns: predicted)."""
    from sklearn.metrics import confusion_matrix

    labels = sorted(set(gold) | set(active) | set(candidate))
    diff = confusion_matrix(gold, candidate, labels=labels) - confusion_matrix(
        gold, active, labels=labels
    )
    keep = [i for i in range(len(labels)) if diff[i, :].any() or diff[:, i].any()]
    return [labels[i] for i in keep], diff[np.ix_(keep, keep)]


def plot_per_intent_f1(verdict: Verdict, path: Path, *, active: str, candidate: str) -> None:
    """Horizontal bars: F1 per intent under each model, worst change first."""
    plt = _pyplot()
    changes = sorted(verdict.changes, key=lambda c: c.delta)
    n = len(changes)
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.3 * n + 1.5)))
    y = np.arange(n)
    ax.barh(y - 0.2, [c.active_f1 for c in changes], height=0.4, label=f"active {active}")
    ax.barh(y + 0.2, [c.candidate_f1 for c in changes], height=0.4, label=f"candidate {candidate}")
    ax.set_yticks(y, [f"{c.label} ({c.delta:+.3f})" for c in changes], fontsize=8)
    lowest = min([c.active_f1 for c in changes] + [c.candidate_f1 for c in changes], default=0.0)
    ax.set_xlim(max(0.0, lowest - 0.05), 1.0)
    ax.set_xlabel("F1 on the held-out rows")
    ax.invert_yaxis()
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("Per-intent F1 (worst change first)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusion_change(labels: Sequence[str], diff: IntArray, path: Path) -> None:
    """Heat map of the confusion changes: red where the candidate errs more."""
    plt = _pyplot()
    n = max(1, len(labels))
    size = max(5.0, min(0.35 * n + 3, 30.0))
    fig, ax = plt.subplots(figsize=(size, size))
    if not labels:
        ax.text(0.5, 0.5, "no confusion changed", ha="center", va="center")
        ax.set_axis_off()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return
    bound = max(1, int(np.abs(diff).max())) if diff.size else 1
    shown = diff.astype(np.float64).copy()
    # On the diagonal more is better; flip it so that red always means "worse".
    np.fill_diagonal(shown, -np.diag(shown))
    im = ax.imshow(shown, cmap="RdBu_r", vmin=-bound, vmax=bound)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion change, candidate - active (red: worse)")
    for i in range(len(labels)):
        for j in range(len(labels)):
            if diff[i, j]:
                ax.text(j, i, f"{int(diff[i, j]):+d}", ha="center", va="center", fontsize=7)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_reliability(active: ModelScores, candidate: ModelScores, path: Path) -> None:
    """Reliability diagram of both models: accuracy against mean confidence per bin."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    for scores, role, marker in ((active, "active", "o"), (candidate, "candidate", "s")):
        bins = scores.calibration
        ax.plot(
            [b.mean_confidence for b in bins],
            [b.accuracy for b in bins],
            marker=marker,
            label=f"{role} {scores.version} (ECE {scores.ece:.3f})",
        )
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="upper left", fontsize=7)
    ax.set_title("Calibration of accepted intents (held-out rows)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_comparison_report(
    folder: Path,
    *,
    gold: Sequence[str],
    active: ModelScores,
    candidate: ModelScores,
    verdict: Verdict,
    context: dict[str, str],
) -> Path:
    """Side-by-side report of a retrain: ``report.md`` with the verdict and tables, and
    ``per_intent_f1.png``, ``confusion_change.png``, ``calibration.png``."""
    folder.mkdir(parents=True, exist_ok=True)
    plot_per_intent_f1(
        verdict, folder / "per_intent_f1.png", active=active.version, candidate=candidate.version
    )
    labels, diff = confusion_change(gold, active.predicted, candidate.predicted)
    plot_confusion_change(labels, diff, folder / "confusion_change.png")
    plot_reliability(active, candidate, folder / "calibration.png")
    a, c = active.report, candidate.report
    outcome = "**promote**" if verdict.promote else "**keep the active model**"
    lines = [f"# Retrain: {candidate.version} against {active.version}", ""]
    lines += [f"- **{k}**: {v}" for k, v in context.items()]
    lines += ["", f"## Verdict: {outcome}", ""]
    lines += [f"- {r}" for r in verdict.reasons] or [
        f"- macro-F1 not below the active model's and no intent drops more than "
        f"{verdict.max_intent_drop:.3f}"
    ]

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.4f}"

    rows = [
        ("rows", str(a.n), str(c.n), ""),
        ("accuracy", cell(a.accuracy), cell(c.accuracy), f"{c.accuracy - a.accuracy:+.4f}"),
        ("macro-F1", cell(a.macro_f1), cell(c.macro_f1), f"{c.macro_f1 - a.macro_f1:+.4f}"),
        (
            "expected calibration error of accepted intents",
            cell(active.ece),
            cell(candidate.ece),
            f"{candidate.ece - active.ece:+.4f}",
        ),
    ]
    for metric, x, y in (
        ("in-scope accuracy", a.in_scope_accuracy, c.in_scope_accuracy),
        ("out-of-scope recall", a.oos_recall, c.oos_recall),
    ):
        if x is not None and y is not None:
            rows.append((metric, cell(x), cell(y), f"{y - x:+.4f}"))
    if active.corrections_accuracy is not None and candidate.corrections_accuracy is not None:
        rows.append(
            (
                "accuracy on held-out corrections",
                cell(active.corrections_accuracy),
                cell(candidate.corrections_accuracy),
                f"{candidate.corrections_accuracy - active.corrections_accuracy:+.4f}",
            )
        )
    lines += [
        "",
        "## Overall (same held-out rows)",
        "",
        "| metric | active | candidate | change |",
        "|---|---|---|---|",
    ]
    lines += [f"| {m} | {x} | {y} | {d} |" for m, x, y, d in rows]
    lines += [
        "",
        "## Per intent",
        "",
        "![per-intent F1](per_intent_f1.png)",
        "",
        "| intent | rows | active F1 | candidate F1 | change |",
        "|---|---|---|---|---|",
    ]
    for ch in sorted(verdict.changes, key=lambda ch: ch.delta):
        lines.append(
            f"| {ch.label} | {ch.support} | {ch.active_f1:.3f} | {ch.candidate_f1:.3f} | "
            f"{ch.delta:+.3f} |"
        )
    lines += ["", "## Confusion changes", "", "![confusion change](confusion_change.png)", ""]
    moved = [
        (int(diff[i, j]), labels[i], labels[j])
        for i in range(len(labels))
        for j in range(len(labels))
        if i != j and diff[i, j]
    ]
    if moved:
        lines += ["| change | true | predicted |", "|---|---|---|"]
        lines += [
            f"| {n:+d} | {t} | {p} |"
            for n, t, p in sorted(moved, key=lambda m: (-abs(m[0]), m[1], m[2]))[:25]
        ]
    else:
        lines.append("No confusion changed.")
    lines += [
        "",
        "## Calibration of accepted intents",
        "",
        "![calibration](calibration.png)",
        "",
        "| confidence bin | active n | active acc | candidate n | candidate acc |",
        "|---|---|---|---|---|",
    ]
    abins = {round(b.low, 2): b for b in active.calibration}
    cbins = {round(b.low, 2): b for b in candidate.calibration}
    for low in sorted(set(abins) | set(cbins)):
        ab, cb = abins.get(low), cbins.get(low)
        lines.append(
            f"| {low:.1f}-{low + 0.1:.1f} | {ab.count if ab else 0} | "
            f"{cell(ab.accuracy) if ab else '-'} | {cb.count if cb else 0} | "
            f"{cell(cb.accuracy) if cb else '-'} |"
        )
    lines.append("")
    path = folder / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path

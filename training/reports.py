"""Evaluation reports a person would rather read: Markdown tables and a confusion matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.evaluation import EvaluationReport


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

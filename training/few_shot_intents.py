"""Building a servable intent model from an intents spec: descriptions and a few examples.

The artifact is the very one ``triage train`` writes (same type, manifest and heads), so
the service loads it unchanged and ``/v1/triage`` answers in the same shape. What differs
is the data: each intent's examples plus its description as one more example, and the
calibration. With three to twenty examples per intent there is no validation file, so every
tuned number (fusion weight, temperature, rejection thresholds) is fitted on out-of-fold
predictions over the examples themselves (k-fold with k up to the smallest intent's size,
i.e. leave-one-out for three examples), and the rejection thresholds also see generic
negatives: texts no support taxonomy covers (CLINC150's out-of-scope training queries by
default) and keyboard gibberish. Those negatives only calibrate, they are never a class.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.errors import InvalidInputError
from training.datasets import LabelledTexts, read_labelled_csv
from training.intent_spec import OOS_LABEL, IntentSpec

if TYPE_CHECKING:
    from models.protocols import Encoder
    from training.intent_training import TrainingResult

#: Few-shot held-out estimates are coarse (75 held-out rows for 15 intents x 5 examples:
#: one row is 1.3 points), so the rejection may cost up to this much held-out in-scope
#: accuracy, where `triage train` on thousands of rows allows 0.01. Chosen before any
#: figure was measured, not tuned on an evaluation set.
FEW_SHOT_MAX_IN_SCOPE_DROP = 0.05


@dataclass(frozen=True)
class SpecBuildOptions:
    """How a spec becomes training rows and thresholds."""

    use_descriptions: bool = True
    max_in_scope_drop: float = FEW_SHOT_MAX_IN_SCOPE_DROP
    lexical: bool = True
    folds: int = 5
    seed: int = 0


def spec_training_rows(spec: IntentSpec, *, use_descriptions: bool = True) -> LabelledTexts:
    """Each intent's examples, and its description as one more example when asked."""
    texts: list[str] = []
    labels: list[str] = []
    for intent in spec.intents:
        rows = list(intent.examples)
        if use_descriptions:
            rows.append(intent.description)
        texts += rows
        labels += [intent.name] * len(rows)
    digest = hashlib.sha256(f"{spec.sha256}:descriptions={use_descriptions}".encode())
    return LabelledTexts(
        texts=tuple(texts),
        labels=tuple(labels),
        source=spec.source,
        sha256=digest.hexdigest(),
        categories=spec.categories or None,
    )


def read_extra_examples(path: Path, spec: IntentSpec) -> LabelledTexts:
    """Labelled rows (``text``, ``label``) that add to the spec's examples, e.g. agent
    corrections exported from feedback or a helpdesk import.

    Raises:
        InvalidInputError: the file names an intent the spec does not define.
    """
    extra = read_labelled_csv(path, text_column="text", label_column="label")
    known = {i.name for i in spec.intents}
    unknown = sorted(set(extra.labels) - known)
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:10])
        raise InvalidInputError(
            f"{path}: labels not defined in the spec {spec.source}: {shown} "
            "(add them to the spec, or drop those rows)"
        )
    return extra


def read_generic_negatives(path: Path, *, oos_label: str | None = OOS_LABEL) -> list[str]:
    """Texts that fit no support taxonomy, from a ``text,label`` CSV.

    ``oos_label`` keeps only rows with that label (CLINC150's out-of-scope queries); ``None``
    keeps every row (a file of negatives only).

    Raises:
        InvalidInputError: unreadable file, or no row with ``oos_label``.
    """
    data = read_labelled_csv(path, text_column="text", label_column="label")
    if oos_label is None:
        return list(data.texts)
    texts = [t for t, label in zip(data.texts, data.labels, strict=True) if label == oos_label]
    if not texts:
        raise InvalidInputError(f"{path}: no rows labelled {oos_label!r} to use as negatives")
    return texts


def build_intent_model(
    spec: IntentSpec,
    *,
    encoder: Encoder,
    negatives: Sequence[str] = (),
    extra: LabelledTexts | None = None,
    options: SpecBuildOptions | None = None,
    version: str = "0",
) -> TrainingResult:
    """Fit the intent classifier of a spec (see the module docstring for the calibration).

    Args:
        spec: the validated spec.
        encoder: the sentence encoder the service will use.
        negatives: generic out-of-scope texts, used only to calibrate rejection.
        extra: more labelled rows for the spec's intents.
        options: descriptions, rejection trade-off, n-gram head, folds, seed.
        version: artifact version.
    """
    from training.datasets import concatenate
    from training.intent_training import TrainingConfig, train_intent_classifier

    options = options or SpecBuildOptions()
    rows = spec_training_rows(spec, use_descriptions=options.use_descriptions)
    if extra is not None and len(extra):
        rows = concatenate(rows, extra)
    config = TrainingConfig(
        lexical=options.lexical,
        folds=options.folds,
        max_in_scope_drop=options.max_in_scope_drop,
        seed=options.seed,
    )
    return train_intent_classifier(
        rows,
        encoder=encoder,
        negatives=list(negatives),
        oos_label=OOS_LABEL,
        config=config,
        categories=spec.categories,
        name=spec.name,
        version=version,
    )


def spec_manifest_params(spec: IntentSpec, options: SpecBuildOptions) -> dict[str, Any]:
    """What the manifest records of the spec: per-intent auto-reply permission,
    descriptions, the language policy and how the model was built."""
    return {
        "built_from": "intents-spec",
        "auto_reply": spec.auto_reply,
        "descriptions": {i.name: i.description for i in spec.intents},
        "languages": {"supported": list(spec.languages.supported), "queue": spec.languages.queue},
        "descriptions_as_examples": options.use_descriptions,
        "max_in_scope_drop": options.max_in_scope_drop,
    }

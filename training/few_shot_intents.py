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

Off-topic queries are easy to reject; the messages a real taxonomy misses are mostly its
intents' neighbours ("pending top-up" next to "pending transfer"). So the similarity
threshold is then raised, where that costs no more than the in-scope budget left, on
intents held out of the spec itself: each group of intents plays the unknown ones against
the rest (``unseen_intent_threshold``). The manifest's ``heldout_*`` figures are those of
the first fit; ``unseen_intent_calibration`` records the second.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from models.errors import InvalidInputError
from training.datasets import LabelledTexts, read_labelled_csv
from training.intent_spec import OOS_LABEL, IntentSpec

if TYPE_CHECKING:
    from models.language_detector import LanguageDetector
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
    #: Also fit the similarity threshold on intents held out of the spec (see
    #: ``unseen_intent_threshold``): the messages a real taxonomy misses are mostly
    #: neighbours of its intents, not CLINC's off-topic queries.
    unseen_intents: bool = True
    lexical: bool = True
    folds: int = 5
    seed: int = 0


def without_other_languages(
    spec: IntentSpec, detector: LanguageDetector
) -> tuple[IntentSpec, list[str]]:
    """The spec without examples the detector reads as an unsupported language.

    A German example under an English intent would teach the model that German means that
    intent, which is the silent forcing the language policy forbids; such a message belongs
    in the language queue instead. Returns the kept spec and one line per example left out.

    Raises:
        InvalidInputError: an intent keeps fewer than three examples.
    """
    from training.intent_spec import MIN_EXAMPLES, IntentDefinition

    detector.load()
    notes: list[str] = []
    kept: list[IntentDefinition] = []
    for i, intent in enumerate(spec.intents):
        examples = []
        for j, example in enumerate(intent.examples):
            guess = detector.detect(example)
            if guess.supported:
                examples.append(example)
            else:
                notes.append(
                    f"intents[{i}] ({intent.name}).examples[{j}]: reads as {guess.code!r} "
                    f"({guess.confidence:.2f}), not {'/'.join(spec.languages.supported)}; left out"
                )
        if len(examples) < MIN_EXAMPLES:
            raise InvalidInputError(
                f"intents spec {spec.source}: intents[{i}] ({intent.name}).examples: only "
                f"{len(examples)} in a supported language, at least {MIN_EXAMPLES} needed "
                f"({'; '.join(n for n in notes if f'({intent.name})' in n)})"
            )
        kept.append(dataclasses.replace(intent, examples=tuple(examples)))
    return dataclasses.replace(spec, intents=tuple(kept)), notes


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


def read_feedback_examples(path: Path, spec: IntentSpec) -> tuple[LabelledTexts, int]:
    """Agents' intent corrections (``GET /v1/feedback/export`` JSONL) as more examples.

    The latest correction of a message wins; corrections to intents the spec does not
    define are left out and counted (add the intent to the spec to learn them).

    Raises:
        InvalidInputError: unreadable file or a line that is not a JSON object.
    """
    from training.feedback_retrain import read_corrections
    from training.intent_spec import normalised_example

    known = {i.name for i in spec.intents}
    latest: dict[str, tuple[str, str]] = {}
    skipped = 0
    for correction in read_corrections(path):
        if correction.intent not in known:
            skipped += 1
            continue
        latest[normalised_example(correction.text)] = (correction.text, correction.intent)
    rows = list(latest.values())
    digest = hashlib.sha256(repr(rows).encode()).hexdigest()
    return (
        LabelledTexts(
            texts=tuple(t for t, _ in rows),
            labels=tuple(label for _, label in rows),
            source=str(path),
            sha256=digest,
        ),
        skipped,
    )


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
    result = train_intent_classifier(
        rows,
        encoder=encoder,
        negatives=list(negatives),
        oos_label=OOS_LABEL,
        config=config,
        categories=spec.categories,
        name=spec.name,
        version=version,
    )
    if options.unseen_intents and len(spec.intents) >= 3:
        # What the thresholds fitted above already cost on held-out rows is spent.
        spent = float(result.metrics.get("heldout_accuracy_no_rejection", 0.0)) - float(
            result.metrics.get("heldout_in_scope_accuracy", 0.0)
        )
        budget = max(0.0, options.max_in_scope_drop - max(0.0, spent))
        embeddings = encoder.encode(list(rows.texts))
        unseen = unseen_intent_threshold(embeddings, rows.labels, budget=budget, seed=options.seed)
        result.metrics["unseen_intent_calibration"] = {
            **unseen.to_json(),
            "similarity_threshold_before": result.classifier.heads.similarity_threshold,
        }
        if unseen.threshold > result.classifier.heads.similarity_threshold:
            _with_similarity_threshold(
                result, embeddings, threshold=unseen.threshold, version=version
            )
    return result


@dataclass(frozen=True)
class UnseenIntentCalibration:
    """The similarity threshold fitted on intents held out of the spec, and its figures."""

    threshold: float
    in_scope_rejected: float
    unseen_recall: float
    budget: float
    groups: int

    def to_json(self) -> dict[str, float | int]:
        """For the manifest's metrics."""
        return {
            "threshold": self.threshold,
            "in_scope_rejected_loo": round(self.in_scope_rejected, 4),
            "unseen_intent_recall": round(self.unseen_recall, 4),
            "in_scope_budget": round(self.budget, 4),
            "intent_groups": self.groups,
        }


def unseen_intent_threshold(
    embeddings: npt.NDArray[np.floating[Any]],
    labels: Sequence[str],
    *,
    budget: float,
    groups: int = 5,
    seed: int = 0,
) -> UnseenIntentCalibration:
    """Similarity threshold that rejects messages of intents the spec does not have.

    The intents are split into ``groups``; each group's examples play messages of unknown
    intents, scored by their cosine to the nearest example of the *other* groups. In-scope
    rows are scored leave-one-out (nearest other example, any intent). The threshold is the
    highest whose in-scope rejection stays within ``budget``, so it costs at most that
    share of in-scope messages; the unseen recall at it is reported. Only cosine
    similarities enter, so no model is refitted: this runs in milliseconds.
    """
    import random

    x = np.asarray(embeddings, dtype=np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    names = sorted(set(labels))
    random.Random(seed).shuffle(names)
    n_groups = max(2, min(groups, len(names)))
    group_of = {name: i % n_groups for i, name in enumerate(names)}
    g = np.array([group_of[label] for label in labels])
    in_scope = np.empty(len(x))
    unseen = np.empty(len(x))
    # Blockwise, so tens of thousands of extra rows never build an n x n matrix.
    for start in range(0, len(x), 1024):
        sims = x[start : start + 1024] @ x.T
        rows = np.arange(len(sims))
        sims[rows, start + rows] = -1.0  # leave-one-out: not its own nearest example
        in_scope[start : start + len(sims)] = sims.max(axis=1)
        same = g[start : start + len(sims), None] == g[None, :]
        unseen[start : start + len(sims)] = np.where(same, -1.0, sims).max(axis=1)
    grid = np.round(np.arange(0.0, 0.951, 0.01), 2)
    best = 0.0
    for t in grid:
        if float((in_scope < t).mean()) <= budget + 1e-12:
            best = float(t)
    return UnseenIntentCalibration(
        threshold=best,
        in_scope_rejected=float((in_scope < best).mean()),
        unseen_recall=float((unseen < best).mean()),
        budget=budget,
        groups=n_groups,
    )


def _with_similarity_threshold(
    result: TrainingResult,
    embeddings: npt.NDArray[np.floating[Any]],
    *,
    threshold: float,
    version: str,
) -> None:
    """Raise the served model's similarity threshold (prototypes: every example)."""
    from models.intent_classifier import IntentClassifier

    old = result.classifier
    heads = dataclasses.replace(
        old.heads,
        similarity_threshold=threshold,
        prototypes=np.asarray(embeddings, dtype=np.float16),
    )
    result.classifier = IntentClassifier(
        heads,
        encoder=old.encoder,
        categories=old.categories,
        name=old.name,
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

"""Do other poolings of the same encoder pass help the intent heads? (issue 15)

Offline experiment with the PyTorch fp32 encoder: one forward pass per text with
``output_hidden_states=True`` gives, besides the sentence vector (mean of the last layer,
L2-normalised), the max over the last layer's token states, the CLS state and the mean of
every intermediate layer. Each view is cached per data set; then the logistic head (the
classifier's embedding head, C=20) is fitted 5-fold out-of-fold on the training rows only
for the sentence vector alone and for the sentence vector concatenated with one other view
(each part L2-normalised), and the out-of-fold accuracies are printed. With ``--full`` the
whole ``train_intent_classifier`` (lexical head, fusion weight, vote; CLINC150's
out-of-scope rows as the class they are) runs on each view instead, through a table encoder
that serves the cached vectors, and its held-out accuracy and choices are printed.

    nice -n 15 python bench/intent_pooling_views.py --cache /tmp/intent-views \
        --data-dir ../shared/data [--full]

Data: BANKING77 (the 80 % split of ``triage split``), CLINC150 train (in-scope intents
only), Bitext (the 80 % split). Never the 20 % test parts.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
LAYERS = 7  # embeddings output + 6 transformer layers


def read_rows(path: Path, text_column: str, label_column: str) -> tuple[list[str], list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [
            (r[text_column].strip(), r[label_column].strip())
            for r in csv.DictReader(fh)
            if r[text_column].strip() and r[label_column].strip()
        ]
    return [t for t, _ in rows], [lab for _, lab in rows]


def _l2(x: FloatArray) -> FloatArray:
    return np.asarray(x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None))


def encode_views(texts: list[str], *, batch_size: int = 32) -> dict[str, FloatArray]:
    """Every pooled view of one forward pass: mean per layer, last-layer max and CLS."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from models.sentence_encoder import default_encoder_path

    path = str(default_encoder_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    torch.set_num_threads(1)
    order = np.argsort([len(t) for t in texts])
    views: dict[str, list[FloatArray]] = {}
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            chunk = [texts[i] for i in order[start : start + batch_size]]
            enc = tokenizer(
                chunk, padding=True, truncation=True, max_length=256, return_tensors="pt"
            )
            out = model(**enc, output_hidden_states=True)
            mask = enc["attention_mask"].unsqueeze(-1).float()
            for layer, hidden in enumerate(out.hidden_states):
                mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                views.setdefault(f"mean{layer}", []).append(mean.numpy())
            last = out.hidden_states[-1]
            views.setdefault("max6", []).append(
                last.masked_fill(mask == 0, -1e9).max(1).values.numpy()
            )
            views.setdefault("cls6", []).append(last[:, 0].numpy())
    inverse = np.argsort(order)
    return {k: _l2(np.vstack(v)[inverse].astype(np.float32)) for k, v in views.items()}


def cached_views(cache: Path, name: str, texts: list[str]) -> dict[str, FloatArray]:
    """Views of ``texts``, computed once per data set name."""
    file = cache / f"{name}.npz"
    if file.is_file():
        with np.load(file) as data:
            return {k: data[k] for k in data.files}
    t0 = time.perf_counter()
    views = encode_views(texts)
    print(f"  encoded {name}: {len(texts)} texts in {time.perf_counter() - t0:.0f} s")
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(file, **views)  # type: ignore[arg-type]
    return views


def oof_accuracy(
    x: FloatArray, y: npt.NDArray[np.int64], *, folds: int = 5, c: float = 20.0
) -> float:
    """5-fold out-of-fold accuracy of the classifier's logistic embedding head."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    pred = np.zeros(len(y), dtype=np.int64)
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=0).split(x, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = LogisticRegression(C=c, max_iter=3000).fit(x[tr], y[tr])
        pred[te] = model.predict(x[te])
    return float((pred == y).mean())


COMBOS: dict[str, tuple[str, ...]] = {
    "mean (today)": ("mean6",),
    "mean+max": ("mean6", "max6"),
    "mean+cls": ("mean6", "cls6"),
    "mean+L3mean": ("mean6", "mean3"),
    "mean+L4mean": ("mean6", "mean4"),
    "mean+L5mean": ("mean6", "mean5"),
    "mean+L0mean": ("mean6", "mean0"),
    "mean+L3+max": ("mean6", "mean3", "max6"),
    "mean+L1..L5": ("mean6", "mean1", "mean2", "mean3", "mean4", "mean5"),
}


class ViewTableEncoder:
    """An ``Encoder`` serving cached view concatenations (unknown texts are encoded), so
    ``train_intent_classifier`` runs unchanged on a feature view: every part L2-normalised,
    the concatenation scaled to unit length (cosine neighbours stay meaningful)."""

    def __init__(self, texts: list[str], views: dict[str, FloatArray], parts: tuple[str, ...]):
        self.parts = parts
        self.table = {t: i for i, t in enumerate(texts)}
        self.matrix = self._join(views)

    def _join(self, views: dict[str, FloatArray]) -> FloatArray:
        x = np.hstack([views[p] for p in self.parts])
        return np.asarray(x / np.sqrt(len(self.parts)), dtype=np.float32)

    @property
    def model_id(self) -> str:
        return "views:" + "+".join(self.parts)

    @property
    def dimension(self) -> int:
        return int(self.matrix.shape[1])

    def encode(self, texts: list[str], *, batch_size: int = 64) -> FloatArray:
        del batch_size
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        missing = [i for i, t in enumerate(texts) if t not in self.table]
        found = [i for i, t in enumerate(texts) if t in self.table]
        out[found] = self.matrix[[self.table[texts[i]] for i in found]]
        if missing:
            out[missing] = self._join(encode_views([texts[i] for i in missing]))
        return out


def full_pipeline(
    texts: list[str], labels: list[str], views: dict[str, FloatArray], parts: tuple[str, ...]
) -> dict[str, object]:
    """``train_intent_classifier`` (lexical head, fusion, vote, 5-fold) on one view."""
    from training.datasets import LabelledTexts
    from training.intent_training import TrainingConfig, train_intent_classifier

    data = LabelledTexts(tuple(texts), tuple(labels), source="bench", sha256="-")
    result = train_intent_classifier(
        data, encoder=ViewTableEncoder(texts, views, parts), config=TrainingConfig()
    )
    m = result.metrics
    return {
        "oof": m["heldout_accuracy_no_rejection"],
        "fusion": m["fusion_accuracy_by_weight"],
        "vote": m["vote_accuracy_by_weight"],
    }


def main() -> None:
    """Print out-of-fold accuracy per feature view and data set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/intent-views"))
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--banking-train", type=Path, default=Path("/tmp/banking/train.csv"))
    parser.add_argument("--bitext-train", type=Path, default=Path("/tmp/bitext/train.csv"))
    parser.add_argument("--sets", default="banking77,clinc150,bitext")
    parser.add_argument("--combos", default=",".join(COMBOS))
    parser.add_argument(
        "--full", action="store_true", help="run train_intent_classifier, not the logistic head"
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sources = {
        "banking77": (args.banking_train, "text", "label"),
        "clinc150": (args.data_dir / "clinc150_train.csv", "text", "label"),
        "bitext": (args.bitext_train, "instruction", "intent"),
    }
    for name in args.sets.split(","):
        path, text_col, label_col = sources[name]
        texts, labels = read_rows(path, text_col, label_col)
        views = cached_views(args.cache, name, texts)
        keep = np.array([lab != "out_of_scope" for lab in labels])
        names = sorted(set(np.array(labels)[keep]))
        index = {lab: i for i, lab in enumerate(names)}
        y = np.array([index[lab] for lab, k in zip(labels, keep, strict=True) if k])
        print(f"{name}: {int(keep.sum())} in-scope rows, {len(names)} intents")
        base = None
        for combo in args.combos.split(","):
            parts = COMBOS[combo]
            if args.full:
                t0 = time.perf_counter()
                res = full_pipeline(texts, labels, views, parts)
                print(f"  {combo:14s} full pipeline {res}  ({time.perf_counter() - t0:.0f} s)")
                continue
            x = np.hstack([views[p][keep] for p in parts]).astype(np.float64)
            t0 = time.perf_counter()
            acc = oof_accuracy(x, y)
            base = acc if base is None else base
            print(
                f"  {combo:14s} OOF accuracy {acc:.4f}  delta {100 * (acc - base):+.2f} pt"
                f"  ({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()

"""Fine-tuning a copy of the sentence encoder on the intents (``triage train --fine-tune-encoder``).

Heads on the frozen pooled vector plateau on fine-grained intent sets (BANKING77: ~0.928
out-of-fold however the heads are combined, README "Intent classifier"); training all of
all-MiniLM-L6-v2 on the labels gives a classifier whose errors differ enough from the
frozen model's that adding its log-probabilities lifts accuracy (+0.3 point out-of-fold,
+0.5 on a 20 % split of BANKING77 train). The recipe: mean pooling, L2 normalisation and a
linear head scaled by ``scale`` (a cosine head, so at initialisation the pooled vector is
the shipped sentence embedding), cross-entropy with label smoothing, AdamW with a small
learning rate for the encoder and a larger one for the head, linear warm-up then decay,
batches of similar length. The hyper-parameters were fixed on fold 0 of the BANKING77 80 %
split (``bench/intent_encoder_finetune.py``), never on a test split.

Training needs torch and transformers; the result is exported to ONNX (the serving
backend's variant) by :func:`export_tuned_head`, so serving needs neither.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from models.tuned_encoder_head import TunedEncoderHead

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]
LogProba = npt.NDArray[np.float64]
#: Training texts the export's vectors are compared with torch's on (its manifest).
PROBE_ROWS = 200
#: Training texts the export's and torch's top intents are compared on.
CHECK_ROWS = 2000


@dataclass(frozen=True)
class FineTuneConfig:
    """Hyper-parameters (fixed on one fold of the BANKING77 80 % split)."""

    epochs: int = 5
    batch_size: int = 32
    lr_encoder: float = 5e-5
    lr_head: float = 2e-3
    weight_decay: float = 0.01
    label_smoothing: float = 0.1
    #: Share of the steps with a linear learning-rate ramp.
    warmup: float = 0.1
    #: logits = scale * normalised pooled vector @ W (a cosine-like head).
    scale: float = 20.0
    #: Word pieces per text while training and serving (intent messages are short; a long
    #: e-mail's first 64 word pieces carry its request).
    max_length: int = 64
    seed: int = 0
    #: torch threads while fitting (both cores of this machine when it is free).
    threads: int = 2


@dataclass(frozen=True)
class TokenIds:
    """Token ids of many texts, stored flat: text i owns ``ids[offsets[i]:offsets[i + 1]]``."""

    ids: IntArray
    offsets: IntArray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def lengths(self, rows: IntArray) -> IntArray:
        """Token count of each of ``rows``."""
        return self.offsets[rows + 1] - self.offsets[rows]

    def batch(self, rows: IntArray) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded ids ``(b, t)`` (pad id 0) and the 0/1 attention mask, padded to the
        longest of ``rows`` only (dynamic padding)."""
        import torch

        lengths = self.lengths(rows)
        ids = np.zeros((len(rows), int(lengths.max())), dtype=np.int64)
        mask = np.zeros_like(ids)
        for j, (i, n) in enumerate(zip(rows, lengths, strict=True)):
            ids[j, :n] = self.ids[self.offsets[i] : self.offsets[i] + n]
            mask[j, :n] = 1
        return torch.from_numpy(ids), torch.from_numpy(mask)


def tokenize(texts: Sequence[str], *, max_length: int, source: Path | None = None) -> TokenIds:
    """Token ids of ``texts`` with the packaged tokenizer (the one the ONNX export serves
    with), truncated to ``max_length`` word pieces."""
    from models.onnx_encoder import TOKENIZER_FILE, load_tokenizer
    from models.sentence_encoder import default_encoder_path

    tokenizer = load_tokenizer((source or default_encoder_path()) / TOKENIZER_FILE, max_length)
    encoded = [e.ids for e in tokenizer.encode_batch(list(texts))]
    lengths = np.array([len(e) for e in encoded], dtype=np.int64)
    flat = (
        np.concatenate([np.asarray(e, dtype=np.int64) for e in encoded])
        if encoded
        else np.zeros(0, dtype=np.int64)
    )
    return TokenIds(flat, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))


def build_classifier(n_labels: int, config: FineTuneConfig, *, source: Path | None = None) -> Any:
    """The pretrained encoder (all weights trainable), mean pooling, L2 normalisation and a
    linear head."""
    from torch import nn
    from transformers import AutoModel

    from models.sentence_encoder import default_encoder_path

    path = str(source or default_encoder_path())

    class EncoderClassifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            # Eager attention: the export traces it to plain ops ONNX Runtime fuses.
            self.encoder = AutoModel.from_pretrained(path, attn_implementation="eager")
            self.head = nn.Linear(self.encoder.config.hidden_size, n_labels)
            nn.init.normal_(self.head.weight, std=0.02)
            nn.init.zeros_(self.head.bias)

        def normalised(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            h = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            return nn.functional.normalize(pooled, dim=-1)

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            return config.scale * self.head(self.normalised(ids, mask))

    return EncoderClassifier()


def fit_classifier(
    tokens: TokenIds,
    y: npt.NDArray[np.integer],
    rows: IntArray,
    n_labels: int,
    config: FineTuneConfig,
    *,
    max_steps: int | None = None,
    source: Path | None = None,
) -> Any:
    """Fine-tune encoder and head on ``rows``; ``max_steps`` stops early (timing only)."""
    import torch
    from torch import nn

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        torch.manual_seed(config.seed)
        rng = np.random.default_rng(config.seed)
        model = build_classifier(n_labels, config, source=source)
        optimiser = torch.optim.AdamW(
            [
                {"params": model.encoder.parameters(), "lr": config.lr_encoder},
                {"params": model.head.parameters(), "lr": config.lr_head},
            ],
            weight_decay=config.weight_decay,
        )
        per_epoch = math.ceil(len(rows) / config.batch_size)
        steps = config.epochs * per_epoch
        warm = max(1, int(config.warmup * steps))
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimiser,
            lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))),
        )
        loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
        target = torch.from_numpy(np.asarray(y, dtype=np.int64))
        lengths = tokens.lengths(rows)
        model.train()
        done = 0
        t0 = time.perf_counter()
        for epoch in range(config.epochs):
            total = 0.0
            # Batches of similar length (sorted with random ties, then shuffled as
            # batches): a batch is padded to about its own texts' length.
            jitter = lengths + rng.integers(0, 3, len(rows))
            order = rows[np.lexsort((rng.random(len(rows)), jitter))]
            batches = [
                order[start : start + config.batch_size]
                for start in range(0, len(order), config.batch_size)
            ]
            for b in rng.permutation(len(batches)):
                ids, mask = tokens.batch(batches[b])
                loss = loss_fn(model(ids, mask), target[batches[b]])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
                total += loss.item()
                done += 1
                if max_steps is not None and done >= max_steps:
                    return model.eval()
            logger.info(
                "fine-tuning epoch %d/%d: mean loss %.3f, %.0f s so far",
                epoch + 1,
                config.epochs,
                total / len(batches),
                time.perf_counter() - t0,
            )
        return model.eval()
    finally:
        torch.set_num_threads(previous_threads)


def tuned_log_proba(model: Any, tokens: TokenIds, rows: IntArray | None = None) -> LogProba:
    """Log-probabilities of the fine-tuned classifier for ``rows`` (default: all of
    ``tokens``)."""
    import torch

    return _in_batches(
        tokens,
        rows,
        model.head.out_features,
        lambda ids, mask: torch.log_softmax(model(ids, mask), dim=-1).double().numpy(),
    ).astype(np.float64)


def embed(model: Any, tokens: TokenIds) -> npt.NDArray[np.float32]:
    """The fine-tuned encoder's normalised pooled vectors (what the export must reproduce)."""
    return _in_batches(
        tokens,
        None,
        model.head.in_features,
        lambda ids, mask: model.normalised(ids, mask).float().numpy(),
    ).astype(np.float32)


def _in_batches(
    tokens: TokenIds,
    rows: IntArray | None,
    width: int,
    step: Callable[[torch.Tensor, torch.Tensor], npt.NDArray[Any]],
) -> npt.NDArray[Any]:
    """``step`` over ``rows`` in batches of similar length, outside autograd; one output
    row per input row, in ``rows`` order."""
    import torch

    rows = np.arange(len(tokens)) if rows is None else rows
    out = np.zeros((len(rows), width))
    order = np.argsort(tokens.lengths(rows), kind="stable")
    with torch.inference_mode():
        for start in range(0, len(order), 128):
            at = order[start : start + 128]
            out[at] = step(*tokens.batch(rows[at]))
    return out


def export_tuned_head(
    model: Any,
    config: FineTuneConfig,
    *,
    texts: Sequence[str],
    quantized: bool,
    source: Path | None = None,
) -> TunedEncoderHead:
    """The fine-tuned classifier as a :class:`TunedEncoderHead` on ONNX Runtime.

    The encoder is saved as a Hugging Face folder with the packaged tokenizer and exported
    like the shipped encoder (``models/encoder_export.py``): fp32, or int8 with this CPU's
    quantisation config when ``quantized`` (as the service's default backend is); the
    export's manifest records the vectors' cosine to torch on the first training ``texts``.
    The head's weights are copied as they are. The exported files live in a temporary
    folder that goes away with the head (saving the classifier copies them). How closely
    its decisions follow torch is :func:`export_agreement`'s, asked only of the copy kept.
    """
    import shutil
    import weakref

    from models.encoder_export import Variant, export_encoder
    from models.sentence_encoder import default_encoder_path, weights_fingerprint

    source = source or default_encoder_path()
    model = model.eval()
    probe = tokenize(texts[:PROBE_ROWS], max_length=config.max_length, source=source)
    variant: Variant = "onnx-int8" if quantized else "onnx-fp32"
    home = Path(tempfile.mkdtemp(prefix="tuned-encoder-"))
    try:
        hf = home / "hf"
        model.encoder.save_pretrained(str(hf))
        shutil.copyfile(source / "tokenizer.json", hf / "tokenizer.json")
        fingerprint = weights_fingerprint(hf)
        written = export_encoder(
            hf,
            home / "exported",
            model_id=f"intent-tuned-all-MiniLM-L6-v2@{fingerprint}",
            source_fingerprint=fingerprint,
            dimension=int(model.head.in_features),
            probe_texts=list(texts[:PROBE_ROWS]),
            reference=embed(model, probe),
            variants=(variant,),
            max_seq_length=config.max_length,
        )
        shutil.rmtree(hf)
        head = TunedEncoderHead.from_parts(
            written[variant],
            weight=model.head.weight.detach().float().numpy(),
            bias=model.head.bias.detach().float().numpy(),
            scale=config.scale,
            max_length=config.max_length,
        )
    except BaseException:
        shutil.rmtree(home, ignore_errors=True)
        raise
    weakref.finalize(head, shutil.rmtree, home, True)
    return head


def export_agreement(
    model: Any, head: TunedEncoderHead, *, texts: Sequence[str], tokens: TokenIds
) -> dict[str, float | int]:
    """How closely an export follows the torch model it came from, on the first training
    ``texts`` (``tokens`` are theirs): top-1 agreement of the two classifiers, and the
    vector cosine its export measured (for the intent manifest)."""
    n_check = min(len(texts), CHECK_ROWS)
    torch_top = tuned_log_proba(model.eval(), tokens, np.arange(n_check)).argmax(axis=1)
    export_top = head.log_proba(list(texts[:n_check])).argmax(axis=1)
    metrics: dict[str, float | int] = {
        "tuned_export_check_rows": n_check,
        "tuned_export_top1_agreement": round(float((torch_top == export_top).mean()), 4),
    }
    manifest = head.encoder.manifest
    if manifest is not None:
        for key in ("cosine_to_torch_mean", "cosine_to_torch_min"):
            if key in manifest.metrics:
                metrics[f"tuned_export_{key}"] = manifest.metrics[key]
    return metrics

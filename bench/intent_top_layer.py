"""Does tuning the encoder's last transformer layer lift BANKING77 intents? (issue 15)

Every head on the frozen pooled vector plateaus at ~0.927 out-of-fold on the BANKING77 80 %
split, so this experiment gives the classifier other evidence: the token states. Layers 0-4
of all-MiniLM-L6-v2 stay frozen (PyTorch fp32, the packaged weights, offline); their output
(layer 4's token states and the attention mask) is computed once per text and cached. A
copy of layer 5 (the last one, 1.8 M parameters, initialised from the pretrained weights),
mean pooling and a linear layer over the 77 intents are then trained on the cached states
(AdamW, small learning rate for the layer and a larger one for the head, label smoothing,
a few epochs), on one core.

Two figures on the 20 % part of ``triage split`` (default seed 0):

1. the tuned top layer alone;
2. fused with the existing model (``triage train --distance-scores``: lexical fusion, the
   nearest-example vote; onnx-int8): ``log p_existing + w * log p_top``, with ``w`` chosen on
   5-fold out-of-fold predictions of *both* models on the 80 % part (the same stratified
   folds; the existing model's out-of-fold probabilities are the ones its own trainer tunes
   its fusion and vote weights on, so they are slightly optimistic for it), then both refitted
   on all of the 80 % part and applied to the 20 %.

The top layer's hyper-parameters are fixed in ``TopLayerConfig``; one other setting was
compared on fold 0 of the 80 % part only (never on the 20 %). Everything cached under
``--cache`` (layer-4 states, the existing model's probabilities, each fold's predictions).

    cd /work/wt-bank && export PYTHONPATH=$PWD HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
    triage split --data ../shared/data/banking77_train.csv --label-column label \
        --out-dir /tmp/banking
    nice -n 15 taskset -c 1 .venv/bin/python bench/intent_top_layer.py --cache /tmp/top-layer
    # one fold only, another setting (fold 0 of the 80 %):
    nice -n 15 taskset -c 1 .venv/bin/python bench/intent_top_layer.py --only-fold 0 \
        --epochs 10 --lr-layer 1e-4 --lr-head 5e-3
    # the numpy serving path's CPU time (checked against the torch module first):
    nice -n 15 taskset -c 1 .venv/bin/python bench/intent_top_layer.py --cost-only

Results (2026-12-01, one core shared with two or three other jobs; n=1,998 on the 20 %):

- The copied layer on the cached layer-4 states reproduces the encoder's pooled output
  (max |diff| 2.4e-07). Caching: 8,005 + 1,998 texts, 130 k + 32 k tokens, 105 + 25 s.
- Top layer alone, 5-fold out-of-fold on the 80 %: 0.9178 (epochs 6, layer LR 5e-5, head LR
  2e-3, label smoothing 0.1, cosine head with scale 20). Fold 0: 0.9182; the other setting
  (10 epochs, 1e-4 / 5e-3) 0.9144 and no fusion gain at any weight on that fold.
- Existing model, same folds: 0.9279 (the README's figure).
- Fusion weight by out-of-fold accuracy: 0 -> 0.9279, 0.25 -> 0.9265, 0.5 -> 0.9280 (chosen,
  one row more than without), 0.75 -> 0.9275, 1 -> 0.9265, 2 -> 0.9249, 4 -> 0.9242. Below
  the trainer's own bar for keeping a part (0.1 point): in the product it would be off.
- 20 % split: existing model (argmax) 0.9364 [0.925, 0.946]; tuned top layer alone 0.9284
  [0.916, 0.939]; fused (w 0.5) 0.9369 [0.925, 0.947], one message more. (An earlier pass
  with the weight chosen on folds 0-1 only picked 0.75 and gave 0.9364.) Not >= 0.94.
- Cost: one fit on 6,404 rows 170-390 s (on all 8,005: 381 s) on the shared core; the existing
  model 154 s. Artifact: 1,804,109 parameters (layer + head), 7.2 MB float32 / 3.6 MB
  float16, within 25 MB. Serving in numpy: 3.6 ms CPU a message of 20 tokens (one thread,
  exact GELU), on top of the encoder's 4.5 ms; it also needs layer 4's token states out of
  the ONNX graph (a second output).

So a tuned last layer learns about what the frozen heads already know (alone it is below
the existing model; its errors overlap), and fusing it adds 0.0-0.1 point: the token states
of one more trainable layer are not the missing evidence either.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import torch

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
FROZEN_LAYERS = 5  # layers 0-4; hidden_states[5] is their output, layer 5's input


@dataclass(frozen=True)
class TokenStates:
    """Layer 4's token states of many texts, stored flat: text i owns rows
    ``offsets[i]:offsets[i + 1]`` (no padding is kept)."""

    flat: FloatArray
    offsets: IntArray

    def __len__(self) -> int:
        return len(self.offsets) - 1


def _load_bert(*, eager: bool = True) -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer

    from models.sentence_encoder import default_encoder_path

    path = str(default_encoder_path())
    # Eager attention takes the additive float mask the copied layer is given below.
    kwargs = {"attn_implementation": "eager"} if eager else {}
    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path, **kwargs).eval()


def encode_states(texts: list[str], *, batch_size: int = 64) -> tuple[TokenStates, FloatArray]:
    """Layer-4 token states of every text, plus the pretrained sentence vector (the
    encoder's own output, to check that the copied layer reproduces it)."""
    import torch

    tokenizer, model = _load_bert()
    order = np.argsort([len(t) for t in texts])
    parts: list[list[FloatArray]] = [[] for _ in texts]
    sentence = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            enc = tokenizer(
                [texts[i] for i in rows],
                padding=True,
                truncation=True,
                max_length=256,
                return_tensors="pt",
            )
            out = model(**enc, output_hidden_states=True)
            hidden = out.hidden_states[FROZEN_LAYERS].numpy()
            mask = enc["attention_mask"].numpy().astype(bool)
            last = out.last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).float()
            mean = ((last * m).sum(1) / m.sum(1)).numpy()
            for j, i in enumerate(rows):
                parts[i] = [hidden[j][mask[j]]]
                sentence[i] = mean[j]
    lengths = np.array([p[0].shape[0] for p in parts], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = np.vstack([p[0] for p in parts]).astype(np.float32)
    return TokenStates(flat, offsets), sentence


def cached_states(cache: Path, name: str, texts: list[str]) -> tuple[TokenStates, FloatArray]:
    """``encode_states`` once per data set name."""
    file = cache / f"{name}-layer{FROZEN_LAYERS - 1}.npz"
    if file.is_file():
        with np.load(file) as data:
            return TokenStates(data["flat"], data["offsets"]), data["sentence"]
    t0 = time.perf_counter()
    states, sentence = encode_states(texts)
    print(
        f"  layer-4 states of {name}: {len(texts)} texts, {len(states.flat)} tokens, "
        f"{time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(file, flat=states.flat, offsets=states.offsets, sentence=sentence)
    return states, sentence


def padded(states: TokenStates, rows: IntArray) -> tuple[torch.Tensor, torch.Tensor]:
    """One padded batch: token states ``(b, t, 384)`` and a 0/1 mask ``(b, t)``."""
    import torch

    lengths = states.offsets[rows + 1] - states.offsets[rows]
    width = int(lengths.max())
    x = np.zeros((len(rows), width, states.flat.shape[1]), dtype=np.float32)
    mask = np.zeros((len(rows), width), dtype=np.float32)
    for j, (i, n) in enumerate(zip(rows, lengths, strict=True)):
        x[j, :n] = states.flat[states.offsets[i] : states.offsets[i] + n]
        mask[j, :n] = 1.0
    return torch.from_numpy(x), torch.from_numpy(mask)


@dataclass(frozen=True)
class TopLayerConfig:
    """Hyper-parameters, fixed before any run (not tuned on the 20 % part)."""

    epochs: int = 6
    batch_size: int = 32
    lr_layer: float = 5e-5
    lr_head: float = 2e-3
    weight_decay: float = 0.01
    label_smoothing: float = 0.1
    warmup: float = 0.1  # share of the steps with a linear learning-rate ramp
    scale: float = 20.0  # logits = scale * normalised pooled vector @ W (cosine-like head)
    seed: int = 0

    @property
    def tag(self) -> str:
        """Cache-file tag of the settings that change the predictions."""
        return f"e{self.epochs}-l{self.lr_layer}-h{self.lr_head}-s{self.label_smoothing}"


def _build(n_labels: int, config: TopLayerConfig) -> Any:
    import copy

    import torch
    from torch import nn

    _, bert = _load_bert()

    class TopLayerClassifier(nn.Module):
        """A trainable copy of layer 5, mean pooling, L2 normalisation, a linear head."""

        def __init__(self) -> None:
            super().__init__()
            self.layer = copy.deepcopy(bert.encoder.layer[-1])
            self.head = nn.Linear(bert.config.hidden_size, n_labels)
            nn.init.normal_(self.head.weight, std=0.02)
            nn.init.zeros_(self.head.bias)

        def pooled(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            additive = (1.0 - mask)[:, None, None, :] * torch.finfo(x.dtype).min
            h = self.layer(x, additive)
            m = mask.unsqueeze(-1)
            return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)

        def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            z = nn.functional.normalize(self.pooled(x, mask), dim=-1)
            return config.scale * self.head(z)

    return TopLayerClassifier()


def check_copy(states: TokenStates, sentence: FloatArray, n_labels: int) -> float:
    """Largest difference between the untrained copy's pooled vector and the encoder's
    own mean-pooled output on 256 texts (should be float noise)."""
    import torch

    model = _build(n_labels, TopLayerConfig()).eval()
    rows = np.arange(min(256, len(states)))
    with torch.inference_mode():
        x, mask = padded(states, rows)
        pooled = model.pooled(x, mask).numpy()
    return float(np.abs(pooled - sentence[rows]).max())


def fit_top_layer(
    states: TokenStates, y: IntArray, rows: IntArray, n_labels: int, config: TopLayerConfig
) -> Any:
    """Train the layer copy and the head on ``rows``."""
    import torch
    from torch import nn

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = _build(n_labels, config)
    optimiser = torch.optim.AdamW(
        [
            {"params": model.layer.parameters(), "lr": config.lr_layer},
            {"params": model.head.parameters(), "lr": config.lr_head},
        ],
        weight_decay=config.weight_decay,
    )
    steps = config.epochs * math.ceil(len(rows) / config.batch_size)
    warm = max(1, int(config.warmup * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm)))
    )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    target = torch.from_numpy(y)
    model.train()
    lengths = states.offsets[rows + 1] - states.offsets[rows]
    for _ in range(config.epochs):
        # Batches of similar length (sorted with random ties, then shuffled as batches):
        # padding to the longest text of a random batch tripled the cost per epoch.
        order = rows[np.lexsort((rng.random(len(rows)), lengths + rng.integers(0, 3, len(rows))))]
        batches = [
            order[start : start + config.batch_size]
            for start in range(0, len(order), config.batch_size)
        ]
        for b in rng.permutation(len(batches)):
            batch = batches[b]
            x, mask = padded(states, batch)
            loss = loss_fn(model(x, mask), target[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    return model.eval()


def top_log_proba(model: Any, states: TokenStates, rows: IntArray) -> npt.NDArray[np.float64]:
    """Log-probabilities of the tuned top layer for ``rows`` (length-sorted batches)."""
    import torch

    order = rows[np.argsort(states.offsets[rows + 1] - states.offsets[rows])]
    out = np.zeros((len(rows), model.head.out_features))
    where = {int(r): k for k, r in enumerate(rows)}
    with torch.inference_mode():
        for start in range(0, len(order), 128):
            batch = order[start : start + 128]
            x, mask = padded(states, batch)
            logp = torch.log_softmax(model(x, mask), dim=-1).double().numpy()
            out[[where[int(r)] for r in batch]] = logp
    return out


def existing_model(
    texts: list[str], labels: list[str], test_texts: list[str], *, backend: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], tuple[str, ...]]:
    """The existing model (``triage train --distance-scores``): its 5-fold out-of-fold
    probabilities on the training rows (captured from its trainer) and the refitted
    model's probabilities on the test rows."""
    import training.intent_training as it
    from models.encoder_factory import build_encoder
    from training.datasets import LabelledTexts

    captured: dict[str, Any] = {}
    original = it.HeldOut

    def capture(**kwargs: Any) -> Any:
        captured["proba"] = kwargs["proba"]
        captured["y"] = kwargs["y"]
        return original(**kwargs)

    it.HeldOut = capture  # type: ignore[misc,assignment]
    try:
        encoder = build_encoder(backend, threads=1)  # type: ignore[arg-type]
        data = LabelledTexts(tuple(texts), tuple(labels), source="bench", sha256="-")
        result = it.train_intent_classifier(
            data, encoder=encoder, config=it.TrainingConfig(distance_scores=True)
        )
    finally:
        it.HeldOut = original  # type: ignore[misc]
    n = len(texts)
    oof = np.asarray(captured["proba"])[:n]
    test = result.classifier.predict_proba(test_texts)
    print(
        f"  existing model: fusion {result.classifier.heads.fusion_weight}, vote "
        f"{result.classifier.heads.vote_weight}, OOF "
        f"{result.metrics['heldout_accuracy_no_rejection']:.4f}",
        flush=True,
    )
    return oof, test, result.classifier.labels


def serving_cost(states: TokenStates, model: Any, *, scale: float, repeats: int = 200) -> float:
    """CPU milliseconds for one message's layer 5 + pooling + head in numpy (20 tokens)."""
    from scipy.special import erf

    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    x = states.flat[:20].astype(np.float32)

    def ln(h: FloatArray, w: str) -> FloatArray:
        mu = h.mean(-1, keepdims=True)
        var = h.var(-1, keepdims=True)
        return np.asarray((h - mu) / np.sqrt(var + 1e-12) * sd[w + ".weight"] + sd[w + ".bias"])

    def lin(h: FloatArray, w: str) -> FloatArray:
        return np.asarray(h @ sd[w + ".weight"].T + sd[w + ".bias"])

    def run(h: FloatArray) -> FloatArray:
        a = "layer.attention.self."
        q, k, v = (
            lin(h, a + p).reshape(20, 12, 32).transpose(1, 0, 2) for p in ("query", "key", "value")
        )
        s = q @ k.transpose(0, 2, 1) * 32**-0.5  # a Python float keeps float32
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(20, 384)
        h1 = ln(lin(ctx, "layer.attention.output.dense") + h, "layer.attention.output.LayerNorm")
        inner = lin(h1, "layer.intermediate.dense")
        inner = 0.5 * inner * (1.0 + erf(inner * 0.7071067811865476))  # BERT's exact GELU
        h2 = ln(lin(inner, "layer.output.dense") + h1, "layer.output.LayerNorm")
        z = h2.mean(0)
        z /= np.linalg.norm(z)
        out = scale * lin(z[None], "head")
        assert out.dtype == np.float32
        return out

    import torch

    with torch.inference_mode():
        reference = model(torch.from_numpy(x[None]), torch.ones(1, len(x))).numpy()[0]
    # The numpy path must be the same function as the torch module it would replace.
    assert np.abs(run(x)[0] - reference).max() < 1e-3, "numpy layer disagrees with torch"
    # CPU time, not wall time: the core is shared, and the README's stage table is CPU time.
    t0 = time.process_time()
    for _ in range(repeats):
        run(x)
    return 1000 * (time.process_time() - t0) / repeats


def main() -> None:
    """Train, cross-validate, fuse and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/top-layer"))
    parser.add_argument("--train", type=Path, default=Path("/tmp/banking/train.csv"))
    parser.add_argument("--test", type=Path, default=Path("/tmp/banking/test.csv"))
    parser.add_argument("--backend", default="onnx-int8", help="the existing model's encoder")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--run-folds",
        type=int,
        default=5,
        help="out-of-fold predictions from the first N folds only (time)",
    )
    parser.add_argument(
        "--only-fold",
        type=int,
        default=None,
        help="train on one fold only and print its accuracy (a quick check)",
    )
    parser.add_argument(
        "--cost-only",
        action="store_true",
        help="only time the numpy serving path (pretrained layer copy)",
    )
    parser.add_argument("--epochs", type=int, default=TopLayerConfig.epochs)
    parser.add_argument("--lr-layer", type=float, default=TopLayerConfig.lr_layer)
    parser.add_argument("--lr-head", type=float, default=TopLayerConfig.lr_head)
    parser.add_argument("--label-smoothing", type=float, default=TopLayerConfig.label_smoothing)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from sklearn.model_selection import StratifiedKFold

    torch.set_num_threads(1)
    config = replace(
        TopLayerConfig(),
        epochs=args.epochs,
        lr_layer=args.lr_layer,
        lr_head=args.lr_head,
        label_smoothing=args.label_smoothing,
    )
    from bench.intent_split import read_split
    from training.evaluation import wilson_interval

    split = read_split(args.train, args.test)
    texts, labels = list(split.train.texts), list(split.train.labels)
    test_texts = list(split.test.texts)
    names, y, y_test = split.names, split.y, split.y_test
    states, sentence = cached_states(args.cache, "banking77-train", texts)
    test_states, _ = cached_states(args.cache, "banking77-test", test_texts)
    if args.cost_only:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            model = _build(len(names), config).eval()
            costs = [serving_cost(states, model, scale=config.scale) for _ in range(5)]
        print(
            f"serving cost, numpy, one thread, 20 tokens: median {np.median(costs):.2f} ms "
            f"(runs {', '.join(f'{c:.2f}' for c in costs)})"
        )
        return
    print(
        f"copied layer reproduces the encoder: max |diff| "
        f"{check_copy(states, sentence, len(names)):.2e}",
        flush=True,
    )
    print(f"{config}", flush=True)

    # The same folds as the existing model's trainer (StratifiedKFold, seed 0, on y).
    folds = list(
        StratifiedKFold(args.folds, shuffle=True, random_state=0).split(np.zeros(len(y)), y)
    )
    if args.only_fold is not None:
        tr, te = folds[args.only_fold]
        t0 = time.perf_counter()
        model = fit_top_layer(states, y, tr, len(names), config)
        held = top_log_proba(model, states, te)
        np.save(args.cache / f"top-oof-{config.tag}-fold{args.only_fold}.npy", held)
        acc = float((held.argmax(1) == y[te]).mean())
        print(
            f"fold {args.only_fold}: top layer accuracy {acc:.4f} "
            f"({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
        return

    tag = config.tag
    ex_file = args.cache / f"existing-{args.backend}.npz"
    if not ex_file.is_file():
        t0 = time.perf_counter()
        ex_oof, ex_test, ex_labels = existing_model(texts, labels, test_texts, backend=args.backend)
        assert ex_labels == names
        np.savez(ex_file, oof=ex_oof, test=ex_test)
        print(f"  existing model trained in {time.perf_counter() - t0:.0f} s", flush=True)
    with np.load(ex_file) as data:
        ex_oof, ex_test = data["oof"], data["test"]
    log_ex_oof = np.log(np.clip(ex_oof, 1e-12, None))

    # Refit on all of the 80 % part first (the test figures need it whatever happens).
    final_file = args.cache / f"top-test-{tag}.npy"
    if not final_file.is_file():
        t0 = time.perf_counter()
        final = fit_top_layer(states, y, np.arange(len(y)), len(names), config)
        print(f"  refit on all {len(y)} rows: {time.perf_counter() - t0:.0f} s", flush=True)
        np.save(final_file, top_log_proba(final, test_states, np.arange(len(y_test))))
        params = sum(p.numel() for p in final.parameters())
        print(
            f"  {params} parameters = {params * 4 / 1e6:.1f} MB float32 / "
            f"{params * 2 / 1e6:.1f} MB float16; serving cost (numpy, 20 tokens, one "
            f"thread) {serving_cost(states, final, scale=config.scale):.2f} ms",
            flush=True,
        )
    top_test = np.load(final_file)

    # Out-of-fold predictions, one fold at a time (each cached), as many as --run-folds.
    done = np.zeros(len(y), dtype=bool)
    top_oof = np.zeros((len(y), len(names)))
    for k, (tr, te) in enumerate(folds[: args.run_folds]):
        fold_file = args.cache / f"top-oof-{tag}-fold{k}.npy"
        if not fold_file.is_file():
            t0 = time.perf_counter()
            model = fit_top_layer(states, y, tr, len(names), config)
            np.save(fold_file, top_log_proba(model, states, te))
            print(f"  fold {k} fitted in {time.perf_counter() - t0:.0f} s", flush=True)
        top_oof[te] = np.load(fold_file)
        done[te] = True
    print(
        f"out-of-fold on the 80 % ({int(done.sum())} rows, folds 0-{args.run_folds - 1}): "
        f"top layer {(top_oof[done].argmax(1) == y[done]).mean():.4f}, existing model "
        f"{(ex_oof[done].argmax(1) == y[done]).mean():.4f}",
        flush=True,
    )
    grid = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)
    accs = [
        float(((log_ex_oof[done] + w * top_oof[done]).argmax(1) == y[done]).mean()) for w in grid
    ]
    for w, a in zip(grid, accs, strict=True):
        print(f"  fusion weight {w:4}: OOF {a:.4f}")
    weight = grid[int(np.argmax(accs))]
    print(f"chosen fusion weight {weight} (OOF {max(accs):.4f})", flush=True)

    n = len(y_test)
    fused = np.log(np.clip(ex_test, 1e-12, None)) + weight * top_test
    for name, pred in (
        ("existing model (argmax)", ex_test.argmax(1)),
        ("tuned top layer alone", top_test.argmax(1)),
        (f"fused, weight {weight}", fused.argmax(1)),
    ):
        k = int((pred == y_test).sum())
        lo, hi = wilson_interval(k, n)
        print(f"20 % split (n={n}) {name}: accuracy {k / n:.4f} [{lo:.3f}, {hi:.3f}]")


if __name__ == "__main__":
    main()

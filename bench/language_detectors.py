"""Compare language detectors on the short-message check set; prints accuracy and speed.

.venv/bin/python bench/language_detectors.py
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from langdetect import DetectorFactory, detect_langs

from models.language_detector import LanguageDetector

DATA = Path(__file__).resolve().parent.parent / "training" / "data" / "language"


def main() -> None:
    # language_check tuned the short-text guard; language_holdout was written afterwards.
    for name in ("language_check.jsonl", "language_holdout.jsonl"):
        print(f"== {name}")
        compare(DATA / name)


def compare(path: Path) -> None:
    """Accuracy and speed of both detectors on one JSONL set."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    DetectorFactory.seed = 0  # langdetect samples at random unless seeded
    start = time.perf_counter()
    langdetect_ok = sum(detect_langs(r["text"])[0].lang.split("-")[0] == r["lang"] for r in rows)
    langdetect_ms = (time.perf_counter() - start) / len(rows) * 1000

    start = time.perf_counter()
    detector = LanguageDetector().load()
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    guesses = [detector.detect(r["text"]) for r in rows]
    lingua_ms = (time.perf_counter() - start) / len(rows) * 1000
    lingua_ok = sum(g.code == r["lang"] for g, r in zip(guesses, rows, strict=True))

    print(f"check set: {len(rows)} messages, {len({r['lang'] for r in rows})} languages")
    print(
        f"langdetect (seed 0):         {langdetect_ok / len(rows):.3f}  {langdetect_ms:.2f} ms/msg"
    )
    print(
        f"lingua + short-text guard:   {lingua_ok / len(rows):.3f}  {lingua_ms:.2f} ms/msg "
        f"(load {load_s:.1f} s)"
    )
    for guess, row in zip(guesses, rows, strict=True):
        if guess.code != row["lang"]:
            print(f"  lingua miss: {row['lang']} -> {guess.code}: {row['text']!r}")


if __name__ == "__main__":
    main()

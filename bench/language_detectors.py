"""Compare language detectors on the short-message check sets: accuracy, speed, memory.

.venv/bin/python bench/language_detectors.py

Each detector runs in a fresh process, so the resident memory it adds is its own. The
same short-text guard (``models/language_detector.py``) is applied to lingua and fastText.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "training" / "data" / "language"

# Runs in a child process: prints {"load": s, "ms": per message, "rss_mb": added, "codes": [...]}.
_CHILD = """
import json, sys, time
rss = lambda: int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
rows = [json.loads(line) for line in open(sys.argv[2], encoding="utf-8")]
before = rss()
start = time.perf_counter()
kind = sys.argv[1]
if kind == "langdetect":
    from langdetect import DetectorFactory, detect_langs
    DetectorFactory.seed = 0  # langdetect samples at random unless seeded
    detect = lambda text: detect_langs(text)[0].lang.split("-")[0]
elif kind == "lingua-high":
    import models.language_detector as m
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
    langs = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper()))
             for c in m.DEFAULT_LANGUAGES]
    lingua = LanguageDetectorBuilder.from_languages(*langs).with_preloaded_language_models().build()
    def detect(text):
        words = m._LETTERS.findall(text)
        if not words:
            return "und"
        values = lingua.compute_language_confidence_values(" ".join(words))
        code, conf = values[0].language.iso_code_639_1.name.lower(), values[0].value
        if code != "en" and len(words) <= m._SHORT_WORDS and text.isascii():
            en = next((v.value for v in values if v.language.iso_code_639_1.name == "EN"), 0.0)
            if conf < m._SHORT_MIN_CONFIDENCE or en >= m._ENGLISH_RATIO * conf:
                code = "en"
        return code
else:
    from models.language_detector import LanguageDetector
    service = LanguageDetector().load()
    detect = lambda text: service.detect(text).code
load = time.perf_counter() - start
detect(rows[0]["text"])
start = time.perf_counter()
codes = [detect(r["text"]) for r in rows]
ms = (time.perf_counter() - start) / len(rows) * 1000
print(json.dumps({"load": load, "ms": ms, "rss_mb": rss() - before, "codes": codes}))
"""

DETECTORS = {
    "langdetect (seed 0)": "langdetect",
    "lingua high-accuracy + guard": "lingua-high",
    "fastText lid.176 + guard (service)": "service",
}


def main() -> None:
    # language_check tuned the short-text guard; language_holdout was written afterwards.
    for name in ("language_check.jsonl", "language_holdout.jsonl"):
        print(f"== {name}")
        compare(DATA / name)


def compare(path: Path) -> None:
    """Accuracy, speed and memory of each detector on one JSONL set."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    print(f"check set: {len(rows)} messages, {len({r['lang'] for r in rows})} languages")
    for label, kind in DETECTORS.items():
        result = subprocess.run(
            [sys.executable, "-c", _CHILD, kind, str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        codes = figures["codes"]
        ok = sum(code == r["lang"] for code, r in zip(codes, rows, strict=True))
        english_kept = sum(
            code == "en" for code, r in zip(codes, rows, strict=True) if r["lang"] == "en"
        )
        english = sum(r["lang"] == "en" for r in rows)
        print(
            f"{label:<36} accuracy {ok / len(rows):.3f}  English kept {english_kept}/{english}  "
            f"{figures['ms']:.2f} ms/msg  load {figures['load']:.1f} s  "
            f"+{figures['rss_mb']:.0f} MB resident"
        )
        for code, row in zip(codes, rows, strict=True):
            if code != row["lang"]:
                print(f"    miss: {row['lang']} -> {code}: {row['text']!r}")


if __name__ == "__main__":
    main()

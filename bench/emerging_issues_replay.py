"""Replays of a support inbox: does a burst of a new problem come out as one emerging
group, and does routine traffic raise no false alarm?

Each replay draws eight days of background traffic from the Bitext customer requests
(routine shop questions, 27 intents, none about the burst themes) at a daily rhythm
(``--per-day`` messages, busier in the afternoon), each with the intent the shipped
intent model gives it (out of scope included, as in production), and on the last day
adds a burst of ``--burst`` messages about one problem no intent names, each worded
differently (drawn from the themes below, which are ours, written for this check). The
detector sees the last 24 hours against the seven days before. Replays without a burst
measure false alarms alone.

Counted per replay: the burst is *found* when exactly one reported theme holds at least
60 % of its messages, and its label *fits* when the label or top terms name a word of the
theme; every other reported group (theme or spike) is a *false alarm*. Precision =
correct groups / all groups reported.

    PYTHONPATH=. HF_HUB_OFFLINE=1 python bench/emerging_issues_replay.py [--seeds 5]

Prints figures; never run as a test.
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from models.encoder_factory import build_encoder
from models.intent_classifier import IntentClassifier
from service.insights.emerging_issues import EmergingIssueDetector, ObservedMessage

# Burst themes: a problem none of Bitext's intents names, and words a fitting label uses.
THEMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "promo_code": (
        ("promo", "code", "discount", "coupon", "voucher"),
        (
            "the promo code SPRING20 says invalid at checkout",
            "Your discount code isn't working, it just says 'code not recognised'",
            "hi, tried the voucher from your email and checkout rejects it??",
            "why does the coupon code from the newsletter not apply to my basket",
            "promo code keeps failing. says expired but the email says valid till sunday",
            "@shop your 20% off code is broken lol",
            "Entered the discount code three times, total doesn't change",
            "checkout won't accept my voucher code, is it only for new customers?",
            "The code SPRING20 gives an error 'not applicable to this order'",
            "Hello, the coupon I got after my complaint doesn't work on the website",
            "discount code not applying at all, tried app and website",
            "promo code invalid?? it was literally sent to me today",
        ),
    ),
    "app_crash_photo": (
        ("app", "crash", "crashes", "photo", "upload", "picture", "closes"),
        (
            "the app crashes every time I try to upload a photo",
            "Your app closes itself when I attach a picture to my review",
            "app keeps crashing on photo upload since the update",
            "Whenever I add an image the whole app just shuts down",
            "hi, can't upload pictures, the app crashes immediately. iphone 15",
            "Uploading a photo of the damaged item makes the app crash",
            "app dies when I pick a photo from my gallery",
            "the android app crashes as soon as I tap 'add photo'",
            "Every time I try to send you a picture of the problem the app closes",
            "App force closes on image upload, reinstalled twice already",
            "photo upload = instant crash. please fix",
            "Trying to attach a photo in the app and it quits on me every time",
        ),
    ),
    "sms_code": (
        ("sms", "code", "text", "verification", "login", "two", "factor"),
        (
            "I never get the SMS verification code so I can't log in",
            "the text message with the login code isn't arriving",
            "two-factor code never comes to my phone",
            "Still waiting for the verification SMS, tried 5 times",
            "no sms code = can't get into my account. help",
            "Your verification texts aren't coming through on my number",
            "login asks for a code by text but nothing arrives",
            "hi the 2FA sms is not being delivered, is there an outage?",
            "I requested the one-time code four times, no text received",
            "Verification code SMS not received, different phones same problem",
            "cant sign in because the sms code never shows up",
            "The security code text message never reaches me",
        ),
    ),
    "wrong_currency": (
        ("currency", "dollars", "euros", "prices", "price", "pounds"),
        (
            "why are all your prices showing in dollars? I'm in Germany",
            "The website suddenly shows prices in US dollars instead of euros",
            "prices are in the wrong currency since this morning",
            "I was charged in dollars although the shop showed pounds??",
            "site is showing USD prices for UK customers, can't switch to GBP",
            "Currency on your site changed to dollars, is that a mistake?",
            "checkout total in dollars but I live in France, what's going on",
            "all the prices on the app are in a different currency now",
            "Hi, the currency selector is gone and everything is in USD",
            "why am I seeing prices in dollars, I'm in Ireland",
            "wrong currency at checkout, it says $ instead of €",
            "The shop displays prices in dollars for me, please fix the currency",
        ),
    ),
    "locker_code": (
        ("locker", "parcel", "code", "pickup", "collect", "open"),
        (
            "the parcel locker code you sent doesn't open the locker",
            "Locker won't open with my pickup code",
            "I'm standing at the pick-up locker and the code is rejected",
            "the collection code for the locker says invalid",
            "my parcel is in the locker but the code doesn't work",
            "Pickup locker keeps saying 'wrong code', can you resend a working one",
            "can't collect my parcel, locker code not accepted",
            "tried the locker PIN three times, door stays shut",
            "Hi, the code in your text doesn't open locker 14 at the station",
            "parcel locker rejects the collection code from the email",
            "Locker code invalid. Parcel stuck inside. Help",
            "the locker doesn't recognise my pickup code at all",
        ),
    ),
    "cancel_button": (
        ("cancel", "button", "hidden", "missing", "find", "gone"),
        (
            "the cancel button disappeared from my orders page",
            "Where did the cancel order button go? it's not there anymore",
            "I can't find the button to cancel, it used to be under my orders",
            "since the redesign there's no cancel option on the order page",
            "cancel button is missing in the app",
            "The option to cancel my order is gone from the website",
            "hi the 'cancel order' button is greyed out and hidden for every order",
            "no cancel button anywhere on my account page??",
            "Your new layout hid the cancel button, can't find it",
            "cancel button vanished after the update",
            "Order page has no cancel link now, how am I supposed to cancel",
            "I looked everywhere, the cancel button is just not there",
        ),
    ),
}


def read_bitext(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [r["instruction"] for r in csv.DictReader(fh)]


def predicted_intents(
    classifier: IntentClassifier, vectors: np.ndarray, texts: list[str]
) -> list[str | None]:
    """The served intent of each text (``None``: out of scope)."""
    out: list[str | None] = []
    for start in range(0, len(texts), 512):
        chunk = slice(start, start + 512)
        for p in classifier.predict_embedded(vectors[chunk], texts[chunk]):
            out.append(None if p.out_of_scope else p.label)
    return out


def arrival_times(rng: random.Random, start: datetime, days: int, per_day: int) -> list[datetime]:
    """Arrivals with a daily rhythm: quiet at night, busiest mid-afternoon."""
    out = []
    for day in range(days):
        for _ in range(per_day):
            while True:
                hour = rng.uniform(0, 24)
                weight = 0.25 + 0.75 * max(0.0, np.sin((hour - 6) / 24 * 2 * np.pi))
                if rng.random() < weight:
                    break
            out.append(start + timedelta(days=day, hours=hour))
    return out


def replay(
    seed: int,
    theme: str | None,
    *,
    texts: list[str],
    intents: list[str | None],
    vectors: np.ndarray,
    theme_vectors: dict[str, list[tuple[np.ndarray, str | None]]],
    per_day: int,
    burst: int,
    detector: EmergingIssueDetector,
) -> tuple[bool, bool, int, str]:
    rng = random.Random(seed)
    until = datetime(2026, 11, 30, tzinfo=UTC)
    since = until - timedelta(days=1)
    start = since - timedelta(days=7)
    times = arrival_times(rng, start, 8, per_day)
    rows = rng.choices(range(len(texts)), k=len(times))  # Bitext holds ~4,500 rows
    messages = [
        ObservedMessage(f"b{i}", at, texts[r], intents[r], vectors[r])
        for i, (at, r) in enumerate(zip(times, rows, strict=True))
    ]
    burst_ids: set[str] = set()
    if theme is not None:
        variants = THEMES[theme][1]
        picked = rng.sample(range(len(variants)), burst)
        burst_start = since + timedelta(hours=rng.uniform(2, 20))
        for j, v in enumerate(picked):
            at = burst_start + timedelta(minutes=rng.uniform(0, 180))
            vector, intent = theme_vectors[theme][v]
            messages.append(ObservedMessage(f"burst{j}", at, variants[v], intent, vector))
            burst_ids.add(f"burst{j}")
    window = [m for m in messages if m.at >= since]
    baseline = [m for m in messages if m.at < since]
    report = detector.detect(window, baseline, since=since, until=until, baseline_since=start)
    groups = len(report.themes) + len(report.spikes)
    found = fits = False
    label = ""
    correct = 0
    holding = [t for t in report.themes if len(burst_ids & set(t.message_ids)) >= 0.6 * burst]
    if theme is not None and len(holding) == 1:
        found = True
        correct = 1
        words = set(THEMES[theme][0])
        label = holding[0].label
        fits = any(w in words for term in (label, *holding[0].terms) for w in term.split("_"))
        fits = fits or any(w in words for term in holding[0].terms for w in term.split())
    return found, fits, groups - correct, label


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--per-day", type=int, default=1_000)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--intent-model", type=Path, default=Path("models/artifacts/intent-bitext"))
    parser.add_argument("--cache", type=Path, help="folder to keep the Bitext embeddings in")
    args = parser.parse_args()

    texts = read_bitext(args.data / "bitext_customer_support.csv")
    encoder = build_encoder(args.backend, threads=2)
    began = time.perf_counter()
    cache = args.cache / f"bitext-{args.backend}.npy" if args.cache else None
    if cache is not None and cache.exists():
        vectors = np.load(cache)
    else:
        vectors = np.asarray(encoder.encode(texts), dtype=np.float32)
        if cache is not None:
            np.save(cache, vectors)
    classifier = IntentClassifier.from_artifact(args.intent_model, encoder=encoder)
    intents = predicted_intents(classifier, vectors, texts)
    theme_vectors = {}
    for name, (_, variants) in THEMES.items():
        embedded = np.asarray(encoder.encode(list(variants)), dtype=np.float32)
        labels = predicted_intents(classifier, embedded, list(variants))
        theme_vectors[name] = list(zip(embedded, labels, strict=True))
    print(
        f"encoded {len(texts)} Bitext rows in {time.perf_counter() - began:.0f} s; "
        f"the model calls {intents.count(None) / len(intents):.1%} of them out of scope"
    )
    detector = EmergingIssueDetector()
    found = fits = false_alarms = correct = 0
    runs = 0
    for theme in THEMES:
        for seed in range(args.seeds):
            ok, fit, extra, label = replay(
                seed * 101 + len(theme),
                theme,
                texts=texts,
                intents=intents,
                vectors=vectors,
                theme_vectors=theme_vectors,
                per_day=args.per_day,
                burst=args.burst,
                detector=detector,
            )
            runs += 1
            found += ok
            fits += fit
            correct += ok
            false_alarms += extra
            print(f"  {theme:16} seed {seed}: found={ok} label={label!r} fits={fit} other={extra}")
    quiet_alarms = 0
    for seed in range(args.seeds * 2):
        _, _, extra, _ = replay(
            10_000 + seed,
            None,
            texts=texts,
            intents=intents,
            vectors=vectors,
            theme_vectors=theme_vectors,
            per_day=args.per_day,
            burst=args.burst,
            detector=detector,
        )
        quiet_alarms += extra
    reported = correct + false_alarms + quiet_alarms
    print(
        f"\nburst replays: {runs} ({len(THEMES)} themes x {args.seeds} seeds, "
        f"{args.per_day}/day background, burst {args.burst})"
    )
    print(f"bursts found as one group: {found}/{runs}; label fits: {fits}/{found or 1}")
    print(f"other groups in burst replays: {false_alarms}")
    print(f"groups in {args.seeds * 2} replays without a burst: {quiet_alarms}")
    print(f"precision: {correct}/{reported} = {correct / max(reported, 1):.3f}")


if __name__ == "__main__":
    main()

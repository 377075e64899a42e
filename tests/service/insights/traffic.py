"""Message-log traffic for the insights tests: routine topics over eight days and a
burst about a parcel locker, written the way the service writes its log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from service.messages.message_entry import MessageEntry
from service.resources import Resources

NOW = datetime.now(UTC).replace(microsecond=0)
ROUTINE = [
    "where is my parcel it has not arrived",
    "how do I change my delivery address",
    "please send me a copy of my invoice",
    "I forgot my password and cannot log in",
    "how long does a refund take to show",
]
BURST = [
    "the parcel locker code is rejected at the locker",
    "locker code rejected, the locker will not open",
    "my locker code is rejected and the locker stays shut",
    "locker rejected the code again, locker door shut",
    "rejected locker code, cannot open the parcel locker",
    "the locker says my code is rejected",
]


def log(resources: Resources, texts: list[str], times: list[datetime], prefix: str) -> None:
    vectors = resources.encoder.encode(texts)
    resources.message_log.store.write(
        [
            MessageEntry(
                id=f"{prefix}{i}",
                created_at=at,
                source="triage",
                text=text,
                intent=None if prefix == "burst" else "routine",
                confidence=0.9,
                out_of_scope=prefix == "burst",
                model_version="tiny",
                detail={},
                embedding=np.asarray(vector, dtype=np.float16).tobytes(),
                embedding_dim=len(vector),
            )
            for i, (text, at, vector) in enumerate(zip(texts, times, vectors, strict=True))
        ]
    )


def background(resources: Resources, per_day: int = 40) -> None:
    rng = np.random.default_rng(0)
    texts, times = [], []
    for day in range(8):
        for _ in range(per_day):
            texts.append(ROUTINE[int(rng.integers(len(ROUTINE)))])
            times.append(NOW - timedelta(days=day, minutes=int(rng.integers(1, 1_439))))
    log(resources, texts, times, "bg")


def burst(resources: Resources) -> None:
    """The six burst messages, two hours ago."""
    log(resources, BURST, [NOW - timedelta(hours=2, minutes=i) for i in range(6)], "burst")

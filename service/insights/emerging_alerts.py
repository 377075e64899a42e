"""Emerging-issue alerts: run the detector on a schedule and tell a webhook about groups
it has not announced before.

The check is a job (kind ``emerging_issues``) on the job engine, submitted once per
interval slot with the slot as its idempotency key, so several workers or replicas
submitting the same slot start one check. Each check's result keeps what it announced;
the next check compares against it, so a theme that keeps growing is announced once (a
theme is the same when it shares at least half its messages with an announced one; a
spike when its intent was already spiking).

The webhook gets a JSON body signed with HMAC-SHA256 over the exact bytes sent
(``X-Triage-Signature: sha256=<hex>``, the same scheme GitHub and Stripe use), and is
retried with backoff on connection errors and 5xx answers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from tenacity import (
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from service.insights.emerging_issues import EmergingReport

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Triage-Signature"
SAME_THEME = 0.5


@dataclass(frozen=True)
class WebhookTarget:
    """Where alerts go and the shared secret that signs them."""

    url: str
    secret: str
    timeout_s: float = 5.0
    attempts: int = 4


class WebhookError(Exception):
    """The webhook could not be reached or answered with a server error."""


def signature(body: bytes, secret: str) -> str:
    """The ``X-Triage-Signature`` value of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header: str) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` (constant-time comparison)."""
    return hmac.compare_digest(signature(body, secret), header)


def new_groups(report: EmergingReport, announced: dict[str, Any] | None) -> dict[str, Any]:
    """The report's spikes and themes not announced by the previous check, as JSON."""
    before_spikes = set((announced or {}).get("spikes", []))
    before_themes = [set(ids) for ids in (announced or {}).get("themes", [])]
    spikes = [
        {
            "intent": s.intent,
            "observed": s.observed,
            "expected": s.expected,
            "p_value": s.p_value,
        }
        for s in report.spikes
        if s.intent not in before_spikes
    ]
    themes = []
    for theme in report.themes:
        ids = set(theme.message_ids)
        if any(len(ids & seen) >= SAME_THEME * len(ids) for seen in before_themes):
            continue
        themes.append(
            {
                "label": theme.label,
                "terms": list(theme.terms),
                "size": theme.size,
                "expected": theme.expected,
                "growth": theme.growth,
                "p_value": theme.p_value,
                "first_seen": theme.first_seen.isoformat(),
                "last_seen": theme.last_seen.isoformat(),
                "examples": list(theme.examples),
            }
        )
    return {"spikes": spikes, "themes": themes}


def announced_after(report: EmergingReport, announced: dict[str, Any] | None) -> dict[str, Any]:
    """What counts as announced after this check: everything spiking or grouped now,
    plus what was announced before (a quiet hour does not make an old theme new)."""
    return {
        "spikes": sorted(
            {s.intent for s in report.spikes} | set((announced or {}).get("spikes", []))
        ),
        "themes": [list(t.message_ids) for t in report.themes]
        + list((announced or {}).get("themes", [])),
    }


def post_alert(target: WebhookTarget, payload: dict[str, Any]) -> int:
    """POST the signed payload; returns the status code (4xx are not retried: the
    receiver refused this body and will refuse it again)."""
    body = json.dumps(payload, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(body, target.secret)}

    @retry(
        retry=retry_if_exception_type(WebhookError),
        stop=stop_after_attempt(target.attempts),
        wait=wait_exponential(multiplier=0.2, max=5.0),
        reraise=True,
    )
    def send() -> int:
        try:
            response = httpx.post(
                target.url, content=body, headers=headers, timeout=target.timeout_s
            )
        except httpx.HTTPError as exc:
            raise WebhookError(f"webhook unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise WebhookError(f"webhook answered {response.status_code}")
        return response.status_code

    return send()


def slot_of(now: datetime, interval: timedelta) -> datetime:
    """Start of the interval slot ``now`` falls in (slots count from the Unix epoch)."""
    seconds = int(interval.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


def check_summary(payload: dict[str, Any], posted: int | None) -> dict[str, Sequence[Any] | Any]:
    """What a check's job result records besides what it announced."""
    return {
        "new_spikes": len(payload["spikes"]),
        "new_themes": len(payload["themes"]),
        "webhook_status": posted,
    }

"""Seconds to analyse hostile 20,000-character messages (issue 12: `no:` x 6,667 took 10.5 s).

Runs what triage does to the text before the encoder (cleanup, quoted-thread and signature
detection, entities, sentiment, urgency signals) on every text of
``tests/fixtures/adversarial_texts.py`` and prints the slowest. With ``--url`` it also posts
each text to a running service's ``/v1/triage`` and polls ``/healthz`` meanwhile, printing
the longest time `/healthz` went unanswered.

    PYTHONPATH=. python bench/adversarial_inputs.py [--top 15] [--url http://127.0.0.1:8000]
"""

from __future__ import annotations

import argparse
import threading
import time

import httpx

from models.message_analyzer import MessageAnalyzer
from tests.fixtures.adversarial_texts import adversarial_texts


def _analyse(top: int) -> None:
    analyzer = MessageAnalyzer()
    analyzer.analyze("warm-up: where is order 4411829?")
    timings = []
    for name, text in adversarial_texts().items():
        start = time.perf_counter()
        analyzer.analyze(text)
        timings.append((time.perf_counter() - start, name))
    timings.sort(reverse=True)
    total = sum(t for t, _ in timings)
    print(f"analysed {len(timings)} texts of 20,000 chars in {total:.2f} s; slowest:")
    for seconds, name in timings[:top]:
        print(f"  {seconds * 1000:8.1f} ms  {name}")


def _healthz_gaps(url: str, stop: threading.Event, gaps: list[float]) -> None:
    with httpx.Client(base_url=url, timeout=30.0) as client:
        while not stop.is_set():
            start = time.perf_counter()
            client.get("/healthz")
            gaps.append(time.perf_counter() - start)
            time.sleep(0.05)


def _service(url: str, top: int, api_key: str | None) -> None:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    stop = threading.Event()
    gaps: list[float] = []
    poller = threading.Thread(target=_healthz_gaps, args=(url, stop, gaps), daemon=True)
    poller.start()
    timings = []
    with httpx.Client(base_url=url, timeout=120.0, headers=headers) as client:
        for name, text in adversarial_texts().items():
            start = time.perf_counter()
            response = client.post("/v1/triage", json={"text": text})
            timings.append((time.perf_counter() - start, name, response.status_code))
    stop.set()
    poller.join()
    timings.sort(reverse=True)
    print(f"/v1/triage on {len(timings)} texts; slowest:")
    for seconds, name, status in timings[:top]:
        print(f"  {seconds * 1000:8.1f} ms  {status}  {name}")
    print(f"/healthz: {len(gaps)} polls, slowest answer {max(gaps) * 1000:.1f} ms")


def main() -> None:
    """Parse arguments and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--url", default=None, help="also time a running service")
    parser.add_argument("--api-key", default=None)
    args = parser.parse_args()
    _analyse(args.top)
    if args.url:
        _service(args.url, args.top, args.api_key)


if __name__ == "__main__":
    main()

"""Re-runs the access, privacy and rate-limit rows of issue 12's table against a real
``triage serve`` (uvicorn, default settings, shipped models) on a temporary data directory.

    .venv/bin/python bench/access_hardening.py [--port 8765]

Prints, for the rows this part of the issue fixes:
1. ``triage serve --host 0.0.0.0`` without a key: exit code and the first line it prints.
2. A key with only the ``triage`` scope: PUT/DELETE of a help-centre article and the
   feedback export (status codes).
3. 300 rapid ``/v1/triage`` calls with one valid key, and 300 wrong-key guesses from one
   address: how many answers of each status, and a ``Retry-After`` seen.
4. A message with a card written with dots, one with double spaces, an e-mail, a phone number
   and an IBAN sent to ``/v1/suggest``, rated, then exported: which of them reach the export.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
TRIAGE_KEY = "bench-triage-key-0123456789"
ADMIN_KEY = "bench-admin-key-0123456789"
SECRETS = {
    "card with dots": "4111.1111.1111.1111",
    "card with double spaces": "5555  5555  5555  4444",
    "e-mail": "jane.doe@example.com",
    "phone": "+31 6 1234 5678",
    "IBAN": "NL91 ABNA 0417 1643 00",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    return env | {
        "TRIAGE_DATA_DIR": str(data_dir),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONPATH": str(REPO),
        **extra,
    }


def refusal(data_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "training.cli", "serve", "--host", "0.0.0.0"],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )
    print(f"1. serve --host 0.0.0.0 without a key: exit {done.returncode}")
    said = next((line for line in done.stderr.splitlines() if "refusing" in line), "")
    print(f"   {said[:200]}...")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    port = args.port or _free_port()
    with tempfile.TemporaryDirectory(prefix="access-bench-") as tmp:
        data_dir = Path(tmp)
        refusal(data_dir)
        keys = [
            {"name": "bot", "key": TRIAGE_KEY, "scopes": ["triage"]},
            {"name": "ops", "key": ADMIN_KEY, "scopes": ["admin"]},
        ]
        server = subprocess.Popen(
            [sys.executable, "-m", "training.cli", "serve", "--port", str(port)],
            env=_env(data_dir, TRIAGE_API_KEYS=json.dumps(keys)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=REPO,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            started = time.monotonic()
            with httpx.Client(base_url=base, timeout=60) as client:
                while True:
                    try:
                        if client.get("/readyz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if server.poll() is not None or time.monotonic() - started > 600:
                        raise SystemExit("the server did not start")
                    time.sleep(1)
                run(client)
        finally:
            server.terminate()
            server.wait(timeout=60)


def run(client: httpx.Client) -> None:
    bot = {"X-API-Key": TRIAGE_KEY}
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    article = {"title": "Free money", "text": "Send your card number to us."}
    put = client.put("/v1/kb/documents/faq/refunds", json=article, headers=bot).status_code
    delete = client.delete("/v1/kb/documents/faq/refunds", headers=bot).status_code
    export = client.get("/v1/feedback/export", headers=bot).status_code
    print(f"2. triage-only key: PUT article {put}, DELETE article {delete}, export {export}")

    statuses: Counter[int] = Counter()
    retry_after = None
    for _ in range(300):
        answer = client.post("/v1/triage", json={"text": "Where is my order?"}, headers=bot)
        statuses[answer.status_code] += 1
        retry_after = retry_after or answer.headers.get("retry-after")
    print(f"3. 300 rapid calls, one key: {dict(statuses)}; Retry-After {retry_after}")
    guesses: Counter[int] = Counter()
    for i in range(300):
        answer = client.post("/v1/triage", json={"text": "hi"}, headers={"X-API-Key": f"g{i}"})
        guesses[answer.status_code] += 1
    print(f"   300 wrong-key guesses, one address: {dict(guesses)}")

    text = "Hello, " + ", ".join(f"{k}: {v}" for k, v in SECRETS.items()) + ". Refund please?"
    suggested = client.post("/v1/suggest", json={"message": {"text": text}}, headers=admin)
    suggestion_id = suggested.json()["suggestion_id"]
    verdict = {"suggestion_id": suggestion_id, "outcome": "rejected"}
    client.post("/v1/feedback", json=verdict, headers=admin)
    exported = client.get("/v1/feedback/export", headers=admin).text
    line = next(json.loads(x) for x in exported.splitlines() if suggestion_id in x)
    leaked = [k for k, v in SECRETS.items() if v in exported]
    print(f"4. exported text: {line['text']!r}")
    print(f"   secrets in the export: {leaked or 'none'}")


if __name__ == "__main__":
    main()

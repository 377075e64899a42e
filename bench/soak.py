"""Loopback soak: fixed concurrency for a fixed time, the server's memory sampled throughout.

    apt-get install -y wrk
    PYTHONPATH=. python bench/soak.py [--seconds 600] [--concurrency 16] [--sample-s 10]

Starts ``triage serve`` with default settings on a temporary data directory (as
``bench/serving_bench.py`` does), then runs ``wrk`` (closed loop, one connection per unit
of concurrency) against ``127.0.0.1`` only, cycling through the serving bench's message
mix, alternately as ``/v1/triage`` and ``/v1/respond`` (respond writes decisions and
suggestions to the database). Meanwhile it samples the server's resident memory
(``VmRSS``) every ``--sample-s`` seconds. It prints requests, errors (connection errors,
timeouts, non-2xx), p50/p99 latency, and RSS at the start, after one minute and at the
end, with the growth after the first minute (issue 12 asks for < 10 %). The load is
bounded by ``--seconds``; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from serving_bench import build_mix, free_port, memory_mb, start_server, stop_server

WRK_SCRIPT = r"""
local requests_ = {}
local counter = 0

function setup(thread)
  thread:set("offset", counter * 97)
  counter = counter + 1
end

function init(args)
  for line in io.lines(args[1]) do
    local tab = line:find("\t", 1, true)
    requests_[#requests_ + 1] = {line:sub(1, tab - 1), line:sub(tab + 1)}
  end
  position = offset
end

function request()
  position = position % #requests_ + 1
  local r = requests_[position]
  return wrk.format("POST", r[1], {["Content-Type"] = "application/json"}, r[2])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "errors": %d, "status_errors": %d, ' ..
    '"timeouts": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def _requests_file(folder: Path) -> Path:
    """One line per request: path, a tab, the JSON body (triage and respond alternate)."""
    lines = []
    for i, message in enumerate(build_mix(400, seed=17)):
        if i % 2 == 0:
            lines.append("/v1/triage\t" + json.dumps(message))
        else:
            body = {
                "message": message,
                "customer": {"email": f"soak{i}@example.com", "name": "Soak"},
            }
            lines.append("/v1/respond\t" + json.dumps(body))
    path = folder / "requests.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _sample_rss(
    pid: int, every_s: float, stop: threading.Event, out: list[tuple[float, float]]
) -> None:
    start = time.monotonic()
    while not stop.is_set():
        out.append((time.monotonic() - start, memory_mb(pid)[0]))
        stop.wait(every_s)
    out.append((time.monotonic() - start, memory_mb(pid)[0]))


def _rss_at(samples: list[tuple[float, float]], second: float) -> float:
    return min(samples, key=lambda s: abs(s[0] - second))[1]


def main() -> None:
    """Run the soak and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--sample-s", type=float, default=10.0)
    parser.add_argument("--backend", default="onnx-int8")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="triage-soak-") as tmp:
        folder = Path(tmp)
        requests_file = _requests_file(folder)
        script = folder / "soak.lua"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        port = free_port()
        proc, ready_s = start_server(args.backend, folder / "var", port, folder / "server.log")
        samples: list[tuple[float, float]] = []
        stop = threading.Event()
        sampler = threading.Thread(
            target=_sample_rss, args=(proc.pid, args.sample_s, stop, samples), daemon=True
        )
        try:
            print(f"server ready in {ready_s:.1f} s, RSS {memory_mb(proc.pid)[0]:.0f} MB")
            sampler.start()
            result = subprocess.run(
                [
                    "wrk",
                    f"-c{args.concurrency}",
                    f"-t{min(args.concurrency, 2)}",
                    f"-d{args.seconds}s",
                    "--timeout",
                    "30s",
                    "-s",
                    str(script),
                    f"http://127.0.0.1:{port}",
                    "--",
                    str(requests_file),
                ],
                capture_output=True,
                text=True,
                check=True,
                timeout=args.seconds + 120,
            )
        finally:
            stop.set()
            if sampler.is_alive():
                sampler.join()
            stop_server(proc)
        line = next(x for x in result.stdout.splitlines() if x.startswith("WRK "))
        figures = json.loads(line[4:])
    print(
        f"{args.seconds} s at concurrency {args.concurrency} ({args.backend}): "
        f"{figures['requests']} requests ({figures['requests'] / args.seconds:.1f}/s), "
        f"{figures['errors']} errors ({figures['status_errors']} non-2xx, "
        f"{figures['timeouts']} timeouts), p50 {figures['p50_us'] / 1000:.0f} ms, "
        f"p99 {figures['p99_us'] / 1000:.0f} ms, max {figures['max_us'] / 1000:.0f} ms"
    )
    start, minute, end = samples[0][1], _rss_at(samples, 60), samples[-1][1]
    print(
        f"RSS MB: start {start:.0f}, 1 min {minute:.0f}, end {end:.0f}; "
        f"growth after the first minute {100 * (end - minute) / minute:+.1f} %"
    )
    print("RSS over time (s: MB): " + ", ".join(f"{t:.0f}: {mb:.0f}" for t, mb in samples))


if __name__ == "__main__":
    main()

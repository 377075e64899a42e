"""The serving benchmark: raw encoder per backend, then the running service, in one run.

    apt-get install -y wrk          # the load generator (Debian package)
    .venv/bin/python bench/serving_bench.py [--seconds 20] [--service-backends onnx-int8,onnx]

1. A fixed mix of real-length messages (seed 13): Bitext customer-support requests (short
   chat lines, read from ../shared/data at run time), our own urgency data set (chat lines,
   tweets, forms, short e-mails) and e-mails composed from it with greetings, signatures
   and a quoted earlier thread (150 to 700 words). Nothing third-party is written to disk
   outside a temporary folder.
2. The raw encoder of each backend (torch fp32, ONNX fp32, ONNX int8) at batch 1, 8 and 32
   on the texts the service encodes for those messages (``MessageAnalyzer.focus_text``),
   in sentences per second, with the thread budget the service uses; plus each backend's
   cosine agreement with torch fp32.
3. For each service backend: ``triage serve`` (uvicorn) as a subprocess with default
   settings on a temporary data directory, started once cold (the sample KB is seeded) and
   once warm (time to ready = spawn to ``/readyz`` 200); then ``/v1/triage`` and
   ``/v1/respond`` at concurrency 1, 8 and 32 for ``--seconds`` each: requests/s, p50, p95,
   p99, errors (connection errors, timeouts and non-2xx answers), the server's CPU time per
   request and the cores it kept busy (``/proc``), ``/v1/triage`` requests per pipeline
   call (``/metrics``: concurrent requests that wait for a thread are served together); the
   server's resident memory (now and peak).

Load generator: ``wrk`` (C, epoll, one closed-loop connection per unit of concurrency) with
a Lua script that cycles through the request bodies. It needs a few percent of one core at
these rates, so the two cores stay with the server; a Python client would compete with the
server for the same cores (and its GIL) and its own latency would show up in the figures.
The ``/v1/respond`` bodies are the messages of the mix that the default policy answers with
``suggest`` (the drafting path), found by sending each once before measuring.

The ratio printed last is service requests/s over raw torch fp32 sentences/s at batch 32,
both measured in this run (the machine is shared: compare ratios, not absolute figures).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.local_ports import free_port  # noqa: E402

SHARED_DATA = Path(os.environ.get("TRIAGE_SHARED_DATA", REPO.parent / "shared" / "data"))
URGENCY_DATA = REPO / "training" / "data" / "urgency" / "urgency_messages.jsonl"
BACKENDS = ("torch", "onnx", "onnx-int8")
CONCURRENCY = (1, 8, 32)
BATCHES = (1, 8, 32)

WRK_SCRIPT = r"""
local bodies = {}
local counter = 0
local threads = {}

function setup(thread)
  thread:set("offset", counter * 97)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  position = offset
end

function request()
  position = position % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[position])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "errors": %d, "status_errors": %d, ' ..
    '"timeouts": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    e.status, e.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max))
end
"""

GREETINGS = ("Hello,", "Hi there,", "Dear Customer Care,", "Good morning,", "Hi,")
SIGN_OFFS = (
    "Kind regards,\nAlex Morgan\n+44 20 7946 0958",
    "Thanks,\nSam\n\nSent from my iPhone",
    "Best wishes,\nJordan Lee\nFlat 4, 12 Harbour Road",
    "Regards,\nR. Patel",
)


# -- the message mix ---------------------------------------------------------------------


def build_mix(n: int = 400, *, seed: int = 13) -> list[dict[str, str]]:
    """``n`` messages ({"text", "subject"?, "channel"}) from chat lines to long e-mails."""
    rng = random.Random(seed)
    ours = [json.loads(line) for line in URGENCY_DATA.read_text(encoding="utf-8").splitlines()]
    bitext_path = SHARED_DATA / "bitext_customer_support.csv"
    with bitext_path.open(encoding="utf-8", newline="") as fh:
        bitext = [row["instruction"] for row in csv.DictReader(fh)]
    mix: list[dict[str, str]] = []
    for i in range(n):
        kind = rng.random()
        if kind < 0.40:
            mix.append({"text": rng.choice(bitext), "channel": "chat"})
        elif kind < 0.75:
            row = rng.choice(ours)
            channel = {"tweet": "social", "form": "web"}.get(row["kind"], row["kind"])
            channel = channel if channel in {"email", "chat", "web", "social"} else "email"
            mix.append({"text": row["text"], "channel": channel})
        else:
            long_mail = kind >= 0.93
            mix.append(_email(rng, ours, bitext, paragraphs=9 if long_mail else 3, index=i))
    return mix


def _email(
    rng: random.Random,
    ours: list[dict[str, Any]],
    bitext: list[str],
    *,
    paragraphs: int,
    index: int,
) -> dict[str, str]:
    """A multi-paragraph e-mail with a signature and a quoted earlier thread."""
    body = [rng.choice(GREETINGS)]
    body += [rng.choice(ours)["text"].replace("\n\n", " ") for _ in range(paragraphs)]
    body.append(rng.choice(bitext))
    body.append(rng.choice(SIGN_OFFS))
    quoted = [rng.choice(ours)["text"] for _ in range(paragraphs)]
    thread = "On Tue, 4 Nov 2026 at 09:12, Customer Care <care@shop.example> wrote:\n" + "\n".join(
        "> " + line for text in quoted for line in text.splitlines()
    )
    return {
        "subject": f"Re: my order {4_400_000 + index}",
        "text": "\n\n".join(body) + "\n\n" + thread,
        "channel": "email",
    }


def focus_texts(mix: Sequence[dict[str, str]]) -> list[str]:
    """What the service's encoder reads of each message."""
    from models.message_analyzer import MessageAnalyzer

    analyzer = MessageAnalyzer()
    return [analyzer.focus_text(m["text"], subject=m.get("subject")) for m in mix]


# -- raw encoders ------------------------------------------------------------------------


def raw_encoder(
    backend: str, texts: Sequence[str], seconds: float, *, threads: int | None = None
) -> dict[str, Any]:
    """Sentences/s and ms per call at each batch size, and the vectors of ``texts``."""
    from models.encoder_factory import build_encoder
    from models.thread_budget import ThreadBudget, apply_thread_budget

    budget = ThreadBudget.for_machine(compute=threads)
    apply_thread_budget(budget)
    encoder = build_encoder(backend, threads=budget.compute)  # type: ignore[arg-type]
    vectors = encoder.encode(list(texts), batch_size=32)
    figures: dict[str, Any] = {"vectors": vectors}
    for batch in BATCHES:
        calls, done, start = 0, 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            at = (calls * batch) % len(texts)
            chunk = list(texts[at : at + batch]) or list(texts[:batch])
            encoder.encode(chunk, batch_size=batch)
            calls += 1
            done += len(chunk)
        elapsed = time.perf_counter() - start
        figures[f"b{batch}"] = {"per_s": done / elapsed, "ms_per_call": elapsed / calls * 1000}
    return figures


# -- the service -------------------------------------------------------------------------


def start_server(
    backend: str | None,
    data_dir: Path,
    port: int,
    log: Path,
    env_extra: Mapping[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], float]:
    """``triage serve`` with default settings but the backend (``None``: the default) and
    ``env_extra``; returns it and its time to ready (spawn to the first ``/readyz`` 200)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TRIAGE_DATA_DIR": str(data_dir),
        **({"TRIAGE_ENCODER_BACKEND": backend} if backend is not None else {}),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        **(env_extra or {}),
    }
    start = time.perf_counter()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "training.cli", "serve", "--port", str(port)],
            env=env,
            cwd=str(REPO),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = start + 300
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return proc, time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.05)
    stop_server(proc)
    raise RuntimeError(f"server not ready within 300 s; see {log}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT (uvicorn's graceful stop), then wait."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def memory_mb(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of a process, MB."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (``/proc/<pid>/stat``), seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    # Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def post(port: int, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """One JSON POST; returns the JSON answer."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def pipeline_calls(port: int) -> int:
    """``/v1/triage`` pipeline calls so far (``triage_pipeline_call_requests_count``)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    prefix = 'triage_pipeline_call_requests_count{pipeline="triage"} '
    return sum(
        int(float(line[len(prefix) :])) for line in text.splitlines() if line.startswith(prefix)
    )


def wrk(
    port: int, path: str, bodies: Path, script: Path, *, concurrency: int, seconds: float
) -> dict[str, Any]:
    """One closed-loop wrk run; returns requests/s, latency percentiles (ms) and errors."""
    command = [
        "wrk",
        f"-t{min(concurrency, 2)}",
        f"-c{concurrency}",
        f"-d{max(int(seconds), 1)}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}{path}",
        "--",
        str(bodies),
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    raw = json.loads(line[4:])
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50": raw["p50_us"] / 1000,
        "p95": raw["p95_us"] / 1000,
        "p99": raw["p99_us"] / 1000,
        "errors": raw["errors"],
        "requests": raw["requests"],
    }


def serve_backend(
    backend: str, mix: Sequence[dict[str, str]], work: Path, seconds: float, py_spy: Path | None
) -> dict[str, Any]:
    """Ready times, load-test figures and memory of the service on one backend."""
    data_dir = work / f"data-{backend}"
    log = work / f"server-{backend}.log"
    port = free_port()
    proc, cold = start_server(backend, data_dir, port, log)
    stop_server(proc)
    proc, warm = start_server(backend, data_dir, port, log)
    result: dict[str, Any] = {"ready_cold_s": cold, "ready_warm_s": warm, "runs": {}}
    try:
        triage_bodies = work / "triage.jsonl"
        triage_bodies.write_text(
            "".join(
                json.dumps({k: v for k, v in m.items() if k in {"text", "subject", "channel"}})
                + "\n"
                for m in mix
            ),
            encoding="utf-8",
        )
        respond = []
        for m in mix:
            body = {"message": {k: v for k, v in m.items() if k in {"text", "subject", "channel"}}}
            answer = post(port, "/v1/respond", body)
            if answer["action"] == "suggest" and answer["suggestions"]:
                respond.append(body)
        result["respond_bodies"] = len(respond)
        respond_bodies = work / "respond.jsonl"
        respond_bodies.write_text("".join(json.dumps(b) + "\n" for b in respond), encoding="utf-8")
        script = work / "bodies.lua"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        for path, bodies in (("/v1/triage", triage_bodies), ("/v1/respond", respond_bodies)):
            wrk(port, path, bodies, script, concurrency=8, seconds=3)  # warm-up
            for concurrency in CONCURRENCY:
                spy = None
                if py_spy is not None and concurrency == 32:
                    name = f"{backend}-{path.strip('/').replace('/', '-')}-c32.svg"
                    spy = subprocess.Popen(
                        [
                            "py-spy",
                            "record",
                            "-p",
                            str(proc.pid),
                            "-d",
                            str(int(seconds)),
                            "-o",
                            str(py_spy / name),
                            "--nonblocking",
                            "--threads",
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                calls_before = pipeline_calls(port)
                cpu_before, wall_before = cpu_seconds(proc.pid), time.monotonic()
                run = wrk(port, path, bodies, script, concurrency=concurrency, seconds=seconds)
                cpu = cpu_seconds(proc.pid) - cpu_before
                calls = pipeline_calls(port) - calls_before
                # Requests per pipeline call (/v1/triage coalesces those that wait).
                run["per_call"] = run["requests"] / calls if calls else None
                # The server's CPU per answered request and the cores it kept busy: on two
                # cores the rate at 32 connections is set by the first (README "Performance").
                run["cpu_ms"] = 1000 * cpu / max(run["requests"], 1)
                run["cores"] = cpu / (time.monotonic() - wall_before)
                result["runs"][(path, concurrency)] = run
                if spy is not None:
                    spy.wait()
        result["rss_mb"], result["peak_rss_mb"] = memory_mb(proc.pid)
    finally:
        stop_server(proc)
    return result


# -- report ------------------------------------------------------------------------------


def load_average() -> str:
    """``uptime``'s load averages (the machine is shared)."""
    return Path("/proc/loadavg").read_text(encoding="utf-8").split(" ", 3)[:3].__str__()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="Per load level.")
    parser.add_argument("--encoder-seconds", type=float, default=4.0, help="Per batch size.")
    parser.add_argument(
        "--service-backends",
        default="onnx-int8,onnx,torch",
        help="Backends to serve, comma-separated (each costs about 2.5 minutes).",
    )
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument(
        "--py-spy", type=Path, help="Record a py-spy profile of each c=32 run here."
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    print(f"load average at start (1, 5, 15 min): {load_average()}")
    mix = build_mix(args.messages)
    texts = focus_texts(mix)
    words = sorted(len(m["text"].split()) for m in mix)
    read = sorted(len(t.split()) for t in texts)[len(texts) // 2]
    print(
        f"mix: {len(mix)} messages, words per message p10/p50/p90/max "
        f"{words[len(words) // 10]}/{words[len(words) // 2]}/{words[len(words) * 9 // 10]}/"
        f"{words[-1]}; the encoder reads a median {read} words"
    )

    print("\n== raw encoder (sentences/s; ms per call)")
    raw: dict[str, dict[str, Any]] = {}
    for backend in BACKENDS:
        raw[backend] = raw_encoder(backend, texts, args.encoder_seconds)
    # The reference is taken at its best: on a busy machine torch's OpenMP pool can be
    # many times slower with all cores than with one, so both are measured and the faster
    # figure per batch size is the one the service is compared with.
    single = raw_encoder("torch", texts, args.encoder_seconds, threads=1)
    for batch in BATCHES:
        key = f"b{batch}"
        if single[key]["per_s"] > raw["torch"][key]["per_s"]:
            raw["torch"][key] = {**single[key], "threads": 1}
    reference = raw["torch"]["vectors"]
    print(f"{'backend':<10} {'batch 1':>18} {'batch 8':>18} {'batch 32':>18}  cosine to torch")
    for backend, fig in raw.items():
        cosine = (fig["vectors"] * reference).sum(axis=1)
        cells = " ".join(
            f"{fig[f'b{b}']['per_s']:>7.0f}/s {fig[f'b{b}']['ms_per_call']:>6.1f} ms"
            + ("*" if fig[f"b{b}"].get("threads") == 1 else " ")
            for b in BATCHES
        )
        print(f"{backend:<10} {cells}  mean {cosine.mean():.4f} min {cosine.min():.4f}")
    print("* torch with 1 thread: faster than with all cores in this run")
    torch32 = raw["torch"]["b32"]["per_s"]

    with tempfile.TemporaryDirectory(prefix="serving-bench-") as tmp:
        work = Path(tmp)
        if args.py_spy is not None:
            args.py_spy.mkdir(parents=True, exist_ok=True)
        for backend in [b.strip() for b in args.service_backends.split(",") if b.strip()]:
            print(f"\n== service, encoder backend {backend} (default settings otherwise)")
            fig = serve_backend(backend, mix, work, args.seconds, args.py_spy)
            print(
                f"ready: cold {fig['ready_cold_s']:.1f} s (seeds the sample KB), warm "
                f"{fig['ready_warm_s']:.1f} s; RSS {fig['rss_mb']:.0f} MB "
                f"(peak {fig['peak_rss_mb']:.0f} MB); {fig['respond_bodies']} of {len(mix)} "
                "messages take the suggest path"
            )
            print(
                f"{'endpoint':<12} {'conc':>4} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
                f"{'p99 ms':>8} {'errors':>7} {'/ raw torch b32':>16} {'CPU ms/req':>10} "
                f"{'cores':>5} {'req/call':>8}"
            )
            for (path, concurrency), run in fig["runs"].items():
                print(
                    f"{path:<12} {concurrency:>4} {run['rps']:>8.1f} {run['p50']:>8.1f} "
                    f"{run['p95']:>8.1f} {run['p99']:>8.1f} {run['errors']:>7} "
                    f"{run['rps'] / torch32:>15.2f}x {run['cpu_ms']:>10.1f} {run['cores']:>5.2f} "
                    + (f"{run['per_call']:>8.1f}" if run["per_call"] else f"{'-':>8}")
                )
    print(f"\nraw torch fp32 encoder at batch 32: {torch32:.0f} sentences/s (this run)")
    print(f"load average at end (1, 5, 15 min): {load_average()}")


if __name__ == "__main__":
    main()

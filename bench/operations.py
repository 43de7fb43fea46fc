"""Operations benchmark: start-up of the server and of a CLI command, and what request logs and metrics cost.

    .venv/bin/python bench/operations.py            # writes bench/OPERATIONS_RESULTS.md
    .venv/bin/python bench/operations.py --no-write

Start-up, each beside its references in the same run:
- a CLI command (`ibm-lms --version`, `ibm-lms cert --help`) from process start to exit; the bare reference is the
  interpreter starting and exiting, the floor is the interpreter importing Flask and building an empty app;
- the server (`ibm-lms serve`, two workers, SQLite) from process start to the first 200 from /healthz; the floor is
  gunicorn serving bench/hello_app.py to its first 200.
Per request, in one process, alternating request by request: the same app with and without observability
(request id, JSON log line written to /dev/null, Prometheus counter and histogram), for /healthz (the bare
request) and a rendered 404 page.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = str(ROOT / ".venv" / "bin" / "python")
IBM_LMS = str(ROOT / ".venv" / "bin" / "ibm-lms")


def wall(args: list[str], env: dict, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def first_answer(args: list[str], env: dict, url: str, cwd: Path | None = None) -> float:
    start = time.perf_counter()
    process = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < 60:
            try:
                with urllib.request.urlopen(url, timeout=1) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"{url} did not answer")
    finally:
        process.terminate()
        process.wait(10)


def paired(folder: Path, url: str, count: int) -> tuple[list[float], list[float]]:
    """The same request to an app without and an app with observability, alternating one by one, so that both
    see the same machine at the same moments."""
    from ibm_lms import create_app

    clients = []
    for enabled in (False, True):
        app = create_app({"SECRET_KEY": "bench-secret", "INSTANCE_PATH": str(folder), "OBSERVABILITY": enabled,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/ops.sqlite3"})
        clients.append(app.test_client())
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(50):
        for client in clients:
            assert client.get(url).status_code in (200, 404), url
    for _ in range(count):
        for index, client in enumerate(clients):
            start = time.perf_counter()
            client.get(url)
            times[index].append(time.perf_counter() - start)
    return times


def run() -> str:
    from ibm_lms.observability import JsonFormatter

    lines = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        env = {**os.environ, "IBM_LMS_SECRET_KEY": "bench-secret", "IBM_LMS_INSTANCE_PATH": str(folder),
               "IBM_LMS_DATABASE_URL": f"sqlite:///{folder}/ops.sqlite3", "IBM_LMS_LOG_FORMAT": "json"}
        subprocess.run([IBM_LMS, "db", "upgrade"], env=env, check=True, capture_output=True)
        bare = wall([PYTHON, "-c", "pass"], env)
        floor = wall([PYTHON, "-c", "import flask; flask.Flask('x')"], env)
        version = wall([IBM_LMS, "--version"], env)
        cert_help = wall([IBM_LMS, "cert", "--help"], env)
        lines += ["## Start-up", "", "| what | median (ms) | / bare | / floor |", "| --- | --- | --- | --- |",
                  f"| `ibm-lms --version` | {version * 1000:.0f} | {version / bare:.1f} | {version / floor:.1f} |",
                  f"| `ibm-lms cert --help` | {cert_help * 1000:.0f} | {cert_help / bare:.1f} | "
                  f"{cert_help / floor:.1f} |",
                  f"| bare: the interpreter alone | {bare * 1000:.0f} | 1.0 | {bare / floor:.2f} |",
                  f"| floor: import Flask, build an empty app | {floor * 1000:.0f} | {floor / bare:.1f} | 1.0 |"]
        serve_times, hello_times = [], []
        for _ in range(3):
            port = free_port()
            serve_times.append(first_answer([IBM_LMS, "serve", "--port", str(port), "--workers", "2"], env,
                                            f"http://127.0.0.1:{port}/healthz"))
            port = free_port()
            hello_times.append(first_answer([str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", "2", "-b",
                                             f"127.0.0.1:{port}", "hello_app:app"], env,
                                            f"http://127.0.0.1:{port}/hello", cwd=ROOT / "bench"))
        serve, hello = statistics.median(serve_times), statistics.median(hello_times)
        lines += [f"| `ibm-lms serve` to its first 200 (two workers, SQLite) | {serve * 1000:.0f} | "
                  f"{serve / bare:.1f} | {serve / hello:.1f} |",
                  f"| floor: gunicorn with a bare Flask app to its first 200 | {hello * 1000:.0f} | "
                  f"{hello / bare:.1f} | 1.0 |", ""]

        logger = logging.getLogger("ibm_lms")
        sink = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115 (the process's lifetime)
        sink.setFormatter(JsonFormatter())
        logger.addHandler(sink)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        lines += ["## Observability per request (in-process, 6,000 requests each, alternating one by one)", "",
                  "| request | without (µs, median) | with (µs, median) | added (µs) | ratio |",
                  "| --- | --- | --- | --- | --- |"]
        for label, url in (("GET /healthz (the bare request)", "/healthz"),
                           ("GET /verify/<unknown id> (a rendered 404 page)", "/verify/unknown")):
            without, with_ = paired(folder, url, 6000)
            a, b = statistics.median(without) * 1e6, statistics.median(with_) * 1e6
            lines.append(f"| {label} | {a:.0f} | {b:.0f} | {b - a:.0f} | {b / a:.2f} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    import platform as host

    text = "\n".join(["# Operations benchmark", "",
                      f"Run {datetime.now():%Y-%m-%d %H:%M} on {host.machine()}, {os.cpu_count()} cores, Python "
                      f"{host.python_version()}. `bench/operations.py` (its docstring says what each line measures).",
                      "", run()])
    print(text)
    if not args.no_write:
        (ROOT / "bench" / "OPERATIONS_RESULTS.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

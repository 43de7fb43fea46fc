"""Our WSGI app with an in-worker CPU account and a profiler per step, for `bench/profile_flow.py --gunicorn|--sample`.

Each gunicorn worker adds up the CPU spent inside the Flask app per step of the flow (login,
launch, page; anything else under "other") and, as BENCH_PROFILE says:

- "0": nothing more (the account alone, no profiler overhead);
- "1": cProfile on a CPU clock, one profiler per step, around the app calls;
- "sample": a statistical profiler on CPU time: SIGPROF every BENCH_SAMPLE_SECONDS of the worker's
  CPU (ITIMER_PROF, default 0.0005) records the Python stack, under the step of the request being
  served or whose response is being written. A worker waiting (accept, the database's answer)
  spends no CPU and so gets no samples, and C code (psycopg, hmac, RSA) counts for the Python
  function that called it; nothing inflates call-heavy code the way cProfile's hooks do.

BENCH_PROFILED_APP=floor wraps the floor (bench/floor_tool.py) instead of ours.

GET /__bench/dump writes <BENCH_PROFILE_DIR>/worker-<pid>.json (the account, and the samples)
and worker-<pid>-<step>.prof, so no dump lands inside a measured request. Like
bench/tool_wsgi.py, it logs where ibm_lms came from.
"""

from __future__ import annotations

import cProfile
import json
import os
import signal
import sys
import time
from collections import Counter

if os.environ.get("BENCH_PROFILED_APP") == "floor":
    # The stack's floor (bench/floor_tool.py), measured the same way, to set ours against it step by step.
    from floor_tool import app as tool_app
else:
    import ibm_lms
    from ibm_lms.wsgi import app as tool_app

    print(f"bench-module-check pid={os.getpid()} ibm_lms={ibm_lms.__file__}", file=sys.stderr, flush=True)

PROFILE_DIR = os.environ.get("BENCH_PROFILE_DIR")
MODE = os.environ.get("BENCH_PROFILE", "1") if PROFILE_DIR else "0"
STEPS = {"/lti/login": "login", "/lti/launch": "launch", "/courses/": "page"}
_profilers = {name: cProfile.Profile(time.process_time) for name in ("login", "launch", "page", "other")} \
    if MODE == "1" else {}
_cpu: dict[str, list[float]] = {}
_samples: dict[str, Counter] = {}
_step = "other"


def _on_cpu_tick(signum, frame) -> None:
    stack = []
    while frame is not None:
        code = frame.f_code
        stack.append(f"{code.co_qualname} ({code.co_filename})")
        frame = frame.f_back
    stack.reverse()
    _samples.setdefault(_step, Counter())[";".join(stack)] += 1


if MODE == "sample":
    interval = float(os.environ.get("BENCH_SAMPLE_SECONDS", "0.0005"))
    signal.signal(signal.SIGPROF, _on_cpu_tick)
    signal.setitimer(signal.ITIMER_PROF, interval, interval)


def _dump(start_response):
    pid = os.getpid()
    with open(os.path.join(PROFILE_DIR, f"worker-{pid}.json"), "w") as handle:
        json.dump({"cpu": _cpu, "samples": {step: dict(found) for step, found in _samples.items()}}, handle)
    for name, profiler in _profilers.items():
        if profiler.getstats():
            profiler.dump_stats(os.path.join(PROFILE_DIR, f"worker-{pid}-{name}.prof"))
    start_response("204 No Content", [])
    return [b""]


def app(environ, start_response):
    global _step
    path = environ.get("PATH_INFO", "")
    if path == "/__bench/dump" and PROFILE_DIR:
        return _dump(start_response)
    _step = step = STEPS.get(path, "other")
    profiler = _profilers.get(step)
    started = time.process_time()
    if profiler is not None:
        profiler.enable()
    try:
        body = b"".join(tool_app(environ, start_response))
    finally:
        if profiler is not None:
            profiler.disable()
        entry = _cpu.setdefault(step, [0, 0.0])
        entry[0] += 1
        entry[1] += time.process_time() - started
    return [body]

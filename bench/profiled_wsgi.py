"""Our WSGI app with an in-worker CPU account and optional cProfile, for `bench/profile_flow.py --gunicorn`.

Each gunicorn worker adds up the CPU spent inside the Flask app per path and, with
BENCH_PROFILE_DIR set, dumps that account and (unless BENCH_PROFILE=0) profiles the app calls (CPU clock) and dumps
<dir>/worker-<pid>.prof plus <dir>/worker-<pid>.json every 100 requests.
"""

from __future__ import annotations

import cProfile
import json
import os
import time

from ibm_lms.wsgi import app as tool_app

PROFILE_DIR = os.environ.get("BENCH_PROFILE_DIR")
# BENCH_PROFILE=0 keeps only the CPU account (no profiler overhead).
_profiler = cProfile.Profile(time.process_time) if PROFILE_DIR and os.environ.get("BENCH_PROFILE") != "0" else None
_cpu: dict[str, list[float]] = {}
_requests = 0


def _dump() -> None:
    pid = os.getpid()
    with open(os.path.join(PROFILE_DIR, f"worker-{pid}.json"), "w") as handle:
        json.dump(_cpu, handle)
    if _profiler is not None:
        _profiler.dump_stats(os.path.join(PROFILE_DIR, f"worker-{pid}.prof"))


def app(environ, start_response):
    global _requests
    path = environ.get("PATH_INFO", "")
    started = time.process_time()
    if _profiler is not None:
        _profiler.enable()
    try:
        body = b"".join(tool_app(environ, start_response))
    finally:
        if _profiler is not None:
            _profiler.disable()
        spent = time.process_time() - started
        entry = _cpu.setdefault(path, [0, 0.0])
        entry[0] += 1
        entry[1] += spent
        _requests += 1
        if PROFILE_DIR and _requests % 100 == 0:
            _dump()
    return [body]

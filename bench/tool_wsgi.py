"""Our WSGI app as the benchmark serves it: `ibm_lms.wsgi:app`, plus one line per worker naming where ibm_lms came from.

bench/run.py starts gunicorn with PYTHONPATH=<worktree>:bench and checks, in the server's log,
that every worker imported ibm_lms from that worktree (not from the checkout others edit).
"""

import os
import sys

import ibm_lms
from ibm_lms.wsgi import app

print(f"bench-module-check pid={os.getpid()} ibm_lms={ibm_lms.__file__}", file=sys.stderr, flush=True)

__all__ = ["app"]

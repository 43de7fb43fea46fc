"""Audit trail benchmark: `audit verify` over a chain of 1,000,000 entries, and the cost of one append.

    .venv/bin/python bench/audit.py                      # PostgreSQL, 1,000,000 entries; writes bench/AUDIT_RESULTS.md
    .venv/bin/python bench/audit.py --entries 100000 --database sqlite --no-write

Makes and drops its own PostgreSQL database `ibm_lms_bench_audit` (127.0.0.1:5432, user postgres, trust). The chain
is written in bulk (hashes computed by ibm_lms.audit.chain, as record() computes them), then verified three times
through the door (`ibm_lms.audit.service.verify`, what `ibm-lms audit verify` runs). Two references in the same
run: reading the same rows without checking them (the floor: the database and the driver alone), and hashing them
without reading (the check alone). Appends: `record()` in a unit of work of its own, 1,000 times, at the chain's
full length.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql://postgres@127.0.0.1:5432/ibm_lms_bench_audit"


def make_app(database: str, folder: Path):
    from flask_migrate import upgrade

    from ibm_lms import create_app
    from ibm_lms.extensions import db

    if database == "postgresql":
        subprocess.run(["psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS ibm_lms_bench_audit"], check=True)
        subprocess.run(["psql", PG_ADMIN, "-qc", "CREATE DATABASE ibm_lms_bench_audit"], check=True)
        url = PG_URL
    else:
        url = "sqlite:///" + str(folder / "audit.sqlite3")
    app = create_app({"SECRET_KEY": "bench-secret-key-not-for-production-use", "SQLALCHEMY_DATABASE_URI": url,
                      "INSTANCE_PATH": str(folder), "BASE_URL": "https://tool.example"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    return app


def fill(app, count: int) -> float:
    from ibm_lms.audit import chain
    from ibm_lms.audit.models import AuditEntry
    from ibm_lms.extensions import db

    start, previous = time.perf_counter(), chain.GENESIS
    first = datetime(2026, 1, 1)
    with app.app_context():
        rows = []
        for position in range(1, count + 1):
            entry = chain.Entry(position, first + timedelta(seconds=position), None,
                                f"https://moodle.example:{position % 5000}", "certification.approved",
                                f"candidate {position % 100000}", {"programme": "dt-trainer", "level": "certified",
                                                                   "score": 0.85}, previous)
            previous = chain.entry_hash(entry)
            rows.append({**entry.__dict__, "entry_hash": previous})
            if len(rows) == 10000:
                db.session.execute(AuditEntry.__table__.insert(), rows)
                db.session.commit()
                rows = []
        if rows:
            db.session.execute(AuditEntry.__table__.insert(), rows)
            db.session.commit()
    return time.perf_counter() - start


def timed(call) -> tuple[float, float]:
    cpu, start = time.process_time(), time.perf_counter()
    call()
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    options = parser.parse_args()
    from ibm_lms.audit import chain
    from ibm_lms.audit import service as audit
    from ibm_lms.extensions import db
    from ibm_lms.unit_of_work import unit_of_work

    folder = Path(tempfile.mkdtemp(prefix="ibm-lms-audit-bench-"))
    app = make_app(options.database, folder)
    try:
        filled = fill(app, options.entries)
        print(f"{options.entries} entries written in {filled:.1f} s", flush=True)
        found = {"verify": [], "read": [], "hash": []}
        with app.app_context():
            held = list(audit._entries())  # for the check-alone reference, read once, untimed
            outcomes = []
            for _ in range(options.rounds):
                found["verify"].append(timed(lambda: outcomes.append(audit.verify()))[0])
                count, breaks = outcomes[-1]
                if count != options.entries or breaks:
                    raise SystemExit(f"verify read {count} entries, found {len(breaks)} breaks")
                found["read"].append(timed(lambda: sum(1 for _ in audit._entries()))[0])
                found["hash"].append(timed(lambda: chain.verify(iter(held)))[0])
                print(f"verify {found['verify'][-1]:.1f} s, read {found['read'][-1]:.1f} s, "
                      f"hash {found['hash'][-1]:.1f} s", flush=True)
            held.clear()
            appends = []
            for number in range(1000):
                def append(number=number):
                    with unit_of_work():
                        audit.record(actor="bench", action="evidence.approved", subject=f"evidence {number}")
                appends.append(timed(append)[0] * 1000)
            db.session.remove()
            db.engine.dispose()
    finally:
        if options.database == "postgresql":
            subprocess.run(["psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS ibm_lms_bench_audit"], check=False)
    verify, read, hashing = (statistics.median(found[k]) for k in ("verify", "read", "hash"))
    text = "\n".join([
        f"# Audit trail benchmark: results ({options.database})", "",
        f"One run of `bench/audit.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: a chain of {options.entries:,} "
        f"entries, {options.rounds} rounds (medians).", "",
        "| step | seconds | per entry (µs) | ratio to verify |", "| --- | --- | --- | --- |",
        f"| `audit verify` (the door: read in batches and check) | {verify:.2f} | {verify / options.entries * 1e6:.1f} "
        f"| 1.00 |",
        f"| floor: read the same rows, check nothing | {read:.2f} | {read / options.entries * 1e6:.1f} "
        f"| {read / verify:.2f} |",
        f"| check alone: hash and link entries held in memory | {hashing:.2f} | "
        f"{hashing / options.entries * 1e6:.1f} | {hashing / verify:.2f} |", "",
        f"One append (`record()` in its own unit of work, chain at full length): median "
        f"{statistics.median(appends):.2f} ms, p95 {sorted(appends)[949]:.2f} ms over 1,000.", ""])
    print(text)
    if not options.no_write:
        (ROOT / "bench" / "AUDIT_RESULTS.md").write_text(text, encoding="utf8")


if __name__ == "__main__":
    main()

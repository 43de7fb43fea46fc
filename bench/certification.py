"""Certification benchmark on PostgreSQL: 100,000 candidates and 1,000,000 evidence rows.

    .venv/bin/python bench/certification.py                 # writes bench/CERTIFICATION_RESULTS.md
    .venv/bin/python bench/certification.py --candidates 10000 --no-write

Makes and drops its own database `ibm_lms_bench_cert` (127.0.0.1:5432, user postgres, trust). Rows are written
with COPY: one academy, 100,000 nominated candidates (document-security trainer path) spread over 13 duty
stations (a tenth with none), four results each, ten
evidence rows each (sessions, co-deliveries, micro-teaching; a tenth still pending), 10,000 issued certifications.

What is measured, each beside two references in the same run:
- status recomputation of every candidate (`ibm-lms cert recompute`), first when every standing changes, then when
  none does; the floor is reading the same facts without evaluating or writing;
- the academy's dashboard and candidate list as an approver's browser gets them (in-process WSGI, the page's whole
  server time); the bare request is /healthz, the floor is the dashboard's own SQL (pipeline, certified counts,
  the expiring list, certified trainers by region) with nothing rendered;
- issuing credentials through the four-eyes decision (grant: checks, audit entry, status index, signature); the
  floor is signing the same credential alone;
- verifying credentials as /verify does; the floor is the signature check alone.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql://postgres@127.0.0.1:5432/ibm_lms_bench_cert"
ISSUER = "https://moodle.bench.invalid"
PROGRAMME = "document-security-trainer"


REGIONS = ("Tbilisi", "Batumi", "Kutaisi", "Sadakhlo", "Sarpi", "Lars", "Red Bridge", "Vale", "Guguti", "Poti",
           "Lagodekhi", "Kartsakhi", "Tsodna")


def make_app(folder: Path):
    from flask_migrate import upgrade

    from ibm_lms import create_app
    from ibm_lms.extensions import db

    subprocess.run(["psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS ibm_lms_bench_cert"], check=True)
    subprocess.run(["psql", PG_ADMIN, "-qc", "CREATE DATABASE ibm_lms_bench_cert"], check=True)
    app = create_app({"SECRET_KEY": "bench-secret-key-not-for-production-use", "SQLALCHEMY_DATABASE_URI": PG_URL,
                      "RATE_LIMITS": False,  # the verification timings ask more often than one address may
                      "INSTANCE_PATH": str(folder), "BASE_URL": "https://tool.example",
                      "COURSES_DIR": str(ROOT / "courses")})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    return app


def _copy(connection, table: str, columns: list[str], rows) -> None:
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed(app, candidates: int) -> dict:
    import psycopg

    from ibm_lms.content import service as content
    from ibm_lms.extensions import db
    from ibm_lms.tenancy import service as tenancy

    random.seed(7)
    with app.app_context():
        tenant = tenancy.add_tenant("bench-academy", "Bench Academy", actor="bench")
        content.load(ROOT / "courses")
        db.session.commit()
    now = datetime(2026, 12, 1)
    today = date(2026, 12, 3)
    with psycopg.connect(PG_URL) as connection:
        # Duty stations as a platform's custom `region` sends them; a tenth of the people without one.
        _copy(connection, "users", ["tenant_id", "issuer", "subject", "name", "created_at", "last_seen_at", "region"],
              ((tenant.id, ISSUER, str(i), f"Trainer {i}", now, now, None if i % 10 == 9 else REGIONS[i % 13])
               for i in range(candidates + 400)))
        first_user = connection.execute("SELECT min(id) FROM users").fetchone()[0]
        users = list(range(first_user, first_user + candidates))
        approvers = list(range(first_user + candidates, first_user + candidates + 2))
        spare = list(range(first_user + candidates + 2, first_user + candidates + 400))
        _copy(connection, "cert_approvers", ["tenant_id", "user_id", "source", "added_at", "added_by"],
              ((tenant.id, a, "named", now, "bench") for a in approvers))
        _copy(connection, "cert_candidates", ["tenant_id", "user_id", "programme_key", "area", "nominated_by",
                                              "nominated_at", "stage", "met", "of", "missing", "computed_at"],
              ((tenant.id, u, PROGRAMME, "document-security", "bench", now, "not_started", 0, 7, "[]", now)
               for u in users))
        event = iter(range(10 ** 9))
        _copy(connection, "cert_results", ["tenant_id", "user_id", "course", "quiz", "score", "achieved_on",
                                           "event_id"],
              ((tenant.id, u, course, quiz, round(random.uniform(0.6, 1.0), 2),
                today - timedelta(days=random.randint(1, 700)), f"bench-{next(event)}")
               for u in users for course, quiz in (("trainer-methodology", None), ("trainer-methodology", "final-exam"),
                                                   ("document-security", None), ("document-security", "final-exam"))))
        master = approvers[0]

        def evidence():
            kinds = ["delivered_session"] * 6 + ["co_delivery"] * 3 + ["micro_teaching"]
            for u in users:
                for index, kind in enumerate(kinds):
                    on = today - timedelta(days=random.randint(1, 900))
                    session = kind == "delivered_session"
                    state = "pending" if index == 0 else "approved"
                    yield (tenant.id, u, "document-security", kind, on, None if session else
                           round(random.uniform(2.0, 4.0), 2), random.choice((2, 3, 4)) if session else None,
                           u if session else master, now, state)
        _copy(connection, "cert_evidence", ["tenant_id", "candidate_id", "area", "kind", "occurred_on", "average",
                                            "hours", "recorded_by_id", "recorded_at", "state"], evidence())
        certified = random.sample(users, candidates // 10)
        indexes = random.sample(range(131072), len(certified))
        _copy(connection, "cert_certifications", ["id", "tenant_id", "programme_key", "programme_version", "area",
                                                  "holder_id", "path", "state", "proposed_by_id", "proposed_at",
                                                  "confirmed_by_id", "confirmed_at", "valid_from", "valid_until",
                                                  "locale", "holder_name", "status_index"],
              ((f"00000000-0000-4000-8000-{i:012d}", tenant.id, PROGRAMME, 1, "document-security", u, "imported",
                "issued", approvers[0], now, approvers[1], now, today - timedelta(days=random.randint(0, 1000)),
                today + timedelta(days=random.randint(1, 1000)), "en", f"Trainer {u}", indexes[i])
               for i, u in enumerate(certified)))
        connection.execute("ANALYZE")
        connection.commit()
    with app.app_context():
        from ibm_lms.certification import programmes

        programmes.adopt(tenant.id, "bench")
        db.session.commit()
    return {"tenant": tenant, "users": users, "approvers": approvers, "spare": spare}


def timed(call, repeat: int = 1) -> list[float]:
    found = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        found.append(time.perf_counter() - start)
    return found


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def ms(value: float) -> str:
    return f"{value * 1000:.1f}"


def signed_in_client(app, user_id: int, tenant_id: int):
    client = app.test_client()
    with client.session_transaction() as session:
        session["identity"] = {"user_id": user_id, "tenant_id": tenant_id, "role": "administrator",
                               "context_id": None, "display_name": "Approver", "resource_link_id": None,
                               "context_title": None}
        session["locale"] = "en"
    return client


def _section(lines: list[str], new: list[str]) -> None:
    """Adds a measured section and shows it at once: a long run shows its progress."""
    lines += new
    print("\n".join(new), flush=True)


def run(candidates: int, write: bool) -> str:
    import jwt

    from ibm_lms.certification import credentials, dashboard, engine, facts, service
    from ibm_lms.extensions import db

    lines = []
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder))
        started = time.perf_counter()
        seeded = seed(app, candidates)
        tenant, users = seeded["tenant"], seeded["users"]
        with app.app_context():
            evidence_rows = db.session.execute(db.text("SELECT count(*) FROM cert_evidence")).scalar_one()
        _section(lines, [f"Seeded in {time.perf_counter() - started:.0f} s: {candidates:,} candidates, "
                  f"{evidence_rows:,} evidence rows, {4 * candidates:,} results, {candidates // 10:,} "
                  "issued certifications, one academy.", ""])

        with app.app_context():
            first = timed(lambda: service.recompute(tenant.id))[0]
            again = timed(lambda: service.recompute(tenant.id))[0]
            ids = [row[0] for row in db.session.execute(db.text("SELECT user_id FROM cert_candidates"))]

            def read_facts():
                for start in range(0, len(ids), engine.CHUNK):
                    facts.facts_of(tenant.id, ids[start:start + engine.CHUNK])
            floor = min(timed(read_facts, 2))
            stages = dict(db.session.execute(db.text(
                "SELECT stage, count(*) FROM cert_candidates GROUP BY stage")).all())
        _section(lines, ["## Status recomputation (every candidate of the academy)", "",
                  "| run | time (s) | ratio to the floor |", "| --- | --- | --- |",
                  f"| every standing changes | {first:.1f} | {first / floor:.2f} |",
                  f"| no standing changes | {again:.1f} | {again / floor:.2f} |",
                  f"| floor: reading the same facts, nothing evaluated or written | {floor:.1f} | 1.00 |", "",
                  f"Stages after recomputation: {', '.join(f'{k} {v:,}' for k, v in sorted(stages.items()))}.", ""])

        client = signed_in_client(app, seeded["approvers"][0], tenant.id)
        assert client.get("/certification/").status_code == 200
        pages = {"dashboard /certification/": "/certification/",
                 "candidates, first page": "/certification/candidates",
                 "candidates, filtered, page 10": f"/certification/candidates?programme={PROGRAMME}&stage=ready&page=10",
                 "bare request /healthz": "/healthz"}
        page_times = {name: timed(lambda url=url: client.get(url), 40)[5:] for name, url in pages.items()}
        with app.app_context():
            def dashboard_sql():
                dashboard.pipeline(tenant.id)
                dashboard.certified_counts(tenant.id)
                dashboard.expiring(tenant.id)
                dashboard.certified_by_region(tenant.id)
            floor_sql = timed(dashboard_sql, 40)[5:]
        bare = statistics.median(page_times["bare request /healthz"])
        sql = statistics.median(floor_sql)
        _section(lines, ["## Pages (server time of the whole request, in-process WSGI; 35 requests each after 5 warm-ups)",
                  "", "| page | p50 (ms) | p95 (ms) | p50 / bare | p50 / floor |", "| --- | --- | --- | --- | --- |",
                  *[f"| {name} | {ms(statistics.median(values))} | {ms(p95(values))} | "
                    f"{statistics.median(values) / bare:.1f} | {statistics.median(values) / sql:.1f} |"
                    for name, values in page_times.items()],
                  f"| floor: the dashboard's SQL alone | {ms(sql)} | {ms(p95(floor_sql))} | {sql / bare:.1f} | 1.0 |",
                  ""])

        holders = seeded["spare"][:300]
        approvers = [f"{ISSUER}:{candidates}", f"{ISSUER}:{candidates + 1}"]
        with app.app_context():
            issued_ids = []

            def issue():
                for holder in holders:
                    record = service.grant("bench-academy", "risk-analysis-trainer", f"{ISSUER}:{holder - users[0]}",
                                           tuple(approvers), actor="bench")
                    issued_ids.append(record.id)
            issuing = timed(issue)[0] / len(holders)
            key = credentials.new_key()
            document = credentials.credential(_sample_content())
            sign_floor = min(timed(lambda: [credentials.sign(document, private_pem=key.private_pem, kid=key.kid)
                                            for _ in range(300)], 3)) / 300
            verifying = min(timed(lambda: [service.verify_stored(i) for i in issued_ids], 2)) / len(issued_ids)
            token = service.credential_token(issued_ids[0])
            jwks = service.jwks("bench-academy")
            public = jwt.PyJWK(jwks["keys"][0], algorithm="EdDSA").key
            verify_floor = min(timed(lambda: [jwt.decode(token, public, algorithms=["EdDSA"],
                                                         options={"verify_exp": False, "verify_nbf": False})
                                              for _ in range(300)], 3)) / 300
        anyone = app.test_client()
        verify_page = timed(lambda: anyone.get(f"/verify/{issued_ids[1]}", headers={"Accept": "application/json"}),
                            60)[10:]
        _section(lines, ["## Credentials", "", "| operation | per second | ms each | ratio to the floor |",
                  "| --- | --- | --- | --- |",
                  f"| issue (grant: checks, audit entry, status index, signed VC-JWT, commit) | {1 / issuing:.0f} | "
                  f"{ms(issuing)} | {issuing / sign_floor:.1f} |",
                  f"| floor: sign the same credential | {1 / sign_floor:.0f} | {ms(sign_floor)} | 1.0 |",
                  f"| verify a stored credential (keys, signature, dates, revocation list) | {1 / verifying:.0f} | "
                  f"{ms(verifying)} | {verifying / verify_floor:.1f} |",
                  f"| floor: check the signature alone | {1 / verify_floor:.0f} | {ms(verify_floor)} | 1.0 |",
                  f"| GET /verify/<id> (JSON), p50 / p95 | {1 / statistics.median(verify_page):.0f} | "
                  f"{ms(statistics.median(verify_page))} / {ms(p95(verify_page))} | "
                  f"{statistics.median(verify_page) / verify_floor:.1f} |", ""])
        with app.app_context():
            db.engine.dispose()
    subprocess.run(["psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS ibm_lms_bench_cert"], check=True)
    return "\n".join(lines)


def _sample_content():
    from ibm_lms.certification import credentials

    return credentials.Content(
        credential_id="7c9e6679-7425-40de-944b-e07fc1f90ae7", verify_url="https://tool.example/verify/x",
        issuer_id="https://tool.example/issuers/bench-academy", issuer_name="Bench Academy",
        achievement_id="https://tool.example/a", achievement_name="Certified Trainer: Risk analysis",
        achievement_description="d" * 200, criteria="c" * 600, level="certified-trainer", area="risk-analysis",
        area_title="Risk analysis", area_url="https://tool.example/a", holder_id="urn:uuid:x", holder_name="T",
        valid_from=date(2026, 12, 3), valid_until=date(2029, 12, 3), locale="en",
        status_list_url="https://tool.example/s", status_index=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    body = run(args.candidates, not args.no_write)
    import platform as host

    header = ["# Certification benchmark", "",
              f"Run {datetime.now():%Y-%m-%d %H:%M} on {host.processor() or host.machine()}, "
              f"Python {host.python_version()}, PostgreSQL on loopback. `bench/certification.py` (see its docstring "
              "for what each line measures).", ""]
    text = "\n".join(header) + "\n" + body + "\n"
    print(text)
    if not args.no_write:
        (ROOT / "bench" / "CERTIFICATION_RESULTS.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

"""Where our tool's CPU goes in a login+launch flow, with cProfile on a CPU clock, against PostgreSQL.

    .venv/bin/python bench/profile_flow.py [--flows 300] [--top 40]
    .venv/bin/python bench/profile_flow.py --gunicorn [--flows 500]

Default: one process, Flask test client. Creates (drops first) the database
ibm_lms_bench_profile, registers a platform whose JWKS is served on loopback by a
thread of this process, runs warm-up flows, measures CPU per login and per launch
without the profiler, then profiles only the tool's two requests per flow (token
signing, the driver's part, stays outside). Prints the top functions by cumulative and
by own time and those of ibm_lms; writes the raw profile to /tmp/ibm_lms_flow.prof.

--gunicorn: the same flows through bench/run.py's machinery, against
`gunicorn -w 1 profiled_wsgi:app` (1 worker, 1 client), first without and then with
the profiler inside the worker; prints the in-app CPU per path and the same tables.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import json
import logging
import pstats
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402
from werkzeug.wrappers import Response  # noqa: E402

from ibm_lms import create_app  # noqa: E402
from ibm_lms.demo.platform import DEMO_USERS, SimulatedPlatform  # noqa: E402
from ibm_lms.lti import service  # noqa: E402

DB = "ibm_lms_bench_profile"
PG = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
BASE_URL = "http://127.0.0.1:8999"  # never listened on: the test client calls the app directly


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--gunicorn", action="store_true", help="profile inside a gunicorn worker")
    args = parser.parse_args()
    if args.gunicorn:
        return profile_in_gunicorn(args)

    subprocess.run(["dropdb", *PG, "--if-exists", "--force", DB], check=True, timeout=60)
    subprocess.run(["createdb", *PG, DB], check=True, timeout=60)

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    holder = {}

    def jwks_app(environ, start_response):
        return Response(json.dumps(holder["sim"].jwks()), mimetype="application/json",
                        headers={"Cache-Control": "max-age=3600"})(environ, start_response)

    server = make_server("127.0.0.1", 0, jwks_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    issuer = f"http://127.0.0.1:{server.server_port}"
    sim = holder["sim"] = SimulatedPlatform(issuer=issuer, client_id="bench-client-1", deployment_id="bench-dep-1")

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"postgresql://postgres@127.0.0.1:5432/{DB}",
            "SECRET_KEY": "profile-secret-key-profile-secret-key",
            "BASE_URL": BASE_URL,
            "INSTANCE_PATH": tmp,
        })
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            service.add_platform(
                tenant_slug="bench", issuer=issuer, client_id=sim.client_id,
                auth_login_url=issuer + "/auth", auth_token_url=issuer + "/token",
                keyset_url=issuer + "/mod/lti/certs.php", deployment_ids=[sim.deployment_id],
            )
        users = [dataclasses.replace(DEMO_USERS["trainee"], subject=f"bench-user-{i}") for i in range(200)]
        client = app.test_client()
        # CPU time, not wall time: waiting for PostgreSQL is not what we are looking for.
        profiler = cProfile.Profile(time.process_time)
        cpu = {"login": 0.0, "launch": 0.0}

        def flow(i: int, profile: bool) -> None:
            user = users[i % len(users)]
            client._cookies.clear()
            client.set_cookie("ibm_lms_cookies", "1", domain="127.0.0.1")
            params = sim.login_parameters(target_link_uri=BASE_URL + "/courses/", login_hint=user.subject)
            url = "/lti/login?" + urlencode(params)
            t0 = time.process_time()
            if profile:
                profiler.enable()
            response = client.get(url, base_url=BASE_URL)
            if profile:
                profiler.disable()
            cpu["login"] += time.process_time() - t0
            assert response.status_code == 302, (response.status_code, response.text[:300])
            query = parse_qs(urlsplit(response.headers["Location"]).query)
            state, nonce = query["state"][0], query["nonce"][0]
            token = sim.sign(sim.launch_claims(nonce=nonce, target_link_uri=BASE_URL + "/courses/", user=user))
            t0 = time.process_time()
            if profile:
                profiler.enable()
            response = client.post("/lti/launch", data={"id_token": token, "state": state}, base_url=BASE_URL)
            if profile:
                profiler.disable()
            cpu["launch"] += time.process_time() - t0
            assert response.status_code == 303, (response.status_code, response.text[:300])

        n = args.flows
        for i in range(args.warmup):
            flow(i, False)
        cpu.update(login=0.0, launch=0.0)
        for i in range(args.warmup, args.warmup + n):
            flow(i, False)
        print(f"in-process CPU without profiler (test client, driver signing excluded): "
              f"login {cpu['login'] / n * 1000:.2f} ms + launch {cpu['launch'] / n * 1000:.2f} ms per flow")
        cpu.update(login=0.0, launch=0.0)
        for i in range(args.warmup + n, args.warmup + 2 * n):
            flow(i, True)
        print(f"with profiler (inflated): login {cpu['login'] / n * 1000:.2f} ms + "
              f"launch {cpu['launch'] / n * 1000:.2f} ms per flow")

    server.shutdown()
    profiler.dump_stats("/tmp/ibm_lms_flow.prof")
    print_tables(pstats.Stats(profiler, stream=io.StringIO()), args.top)
    return 0


def print_tables(stats: pstats.Stats, top: int) -> None:
    for order, restriction in (("cumulative", ()), ("tottime", ()), ("cumulative", ("ibm_lms/",))):
        out = io.StringIO()
        stats.stream = out
        stats.sort_stats(order).print_stats(*restriction, top)
        print(out.getvalue())


def profile_in_gunicorn(args) -> int:
    import glob

    sys.path.insert(0, str(ROOT / "bench"))
    import run

    run.WORKERS = 1
    platform = run.PlatformProcess().start()
    users = run.bench_users(200)
    try:
        for profiled in (False, True):
            with tempfile.TemporaryDirectory() as tmp:
                out_dir = Path(tmp) / "profiles"
                out_dir.mkdir()
                original = run.base_env

                def env_with_profile(original=original, out_dir=out_dir, profiled=profiled):
                    env = original()
                    env.update(BENCH_PROFILE_DIR=str(out_dir), BENCH_PROFILE="1" if profiled else "0",
                               PYTHONPATH=str(ROOT / "bench"))
                    return env

                run.base_env = env_with_profile
                original_init = run.Gunicorn.__init__

                def init(self, name, module, port, env, cwd, log_dir, original_init=original_init):
                    original_init(self, name, "profiled_wsgi:app", port, env, cwd, log_dir)

                run.Gunicorn.__init__ = init
                try:
                    target = run.setup_ours(Path(tmp), platform, users)
                finally:
                    run.base_env, run.Gunicorn.__init__ = original, original_init
                try:
                    run.run_flows(target, args.warmup, 1, 0, 120)
                    # The account is dumped every 100 requests; count flows so it lands after the last one.
                    flows = max(100, args.flows // 50 * 50)
                    phase = run.run_flows(target, flows, 1, args.warmup, 300)
                finally:
                    target.server.stop()
                label = "with profiler (inflated)" if profiled else "without profiler"
                print(f"gunicorn worker, {label}: {phase.server_cpu / flows * 1000:.2f} ms server CPU per flow")
                for path in glob.glob(str(out_dir / "worker-*.json")):
                    account = json.loads(Path(path).read_text())
                    for url_path, (count, seconds) in sorted(account.items()):
                        if count > 1:
                            print(f"  inside the app, {url_path}: {seconds / count * 1000:.2f} ms CPU per request "
                                  f"({count} requests)")
                if profiled:
                    files = glob.glob(str(out_dir / "worker-*.prof"))
                    stats = pstats.Stats(*files, stream=io.StringIO())
                    stats.dump_stats("/tmp/ibm_lms_flow_gunicorn.prof")
                    print_tables(stats, args.top)
    finally:
        platform.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

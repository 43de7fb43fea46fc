"""Where our tool's CPU goes in a flow (login, launch, first page), with cProfile on a CPU clock.

    .venv/bin/python bench/profile_flow.py [--database postgresql|sqlite] [--rev HEAD] [--flows 300] [--top 30]
    .venv/bin/python bench/profile_flow.py --gunicorn [--database sqlite] [--flows 600]

Our tool runs from a git worktree of --rev (default HEAD) at <--worktrees>/ibm-lms-after, as in
bench/run.py (reused if it is there at that commit, else created and removed at the end), with
its own database (PostgreSQL: ibm_lms_bench_after, recreated; SQLite: the tool's default file),
its courses loaded and the platform registered with the tool's own CLI. The platform and its
JWKS are bench/run.py's.

Default: one process, Flask test client. Runs warm-up flows, measures CPU per login, launch and
page without the profiler, then profiles each step with a profiler of its own (token signing,
the platform's part, stays outside). Prints, per step, the top functions by own time and by
cumulative time and those of ibm_lms; writes /tmp/ibm_lms_flow-<step>.prof.

--gunicorn: the same flows through bench/run.py's machinery, against
`gunicorn -w 1 profiled_wsgi:app` (1 worker, 1 client), first without and then with the
profiler inside the worker; prints the in-app CPU per step and the same tables, and writes
/tmp/ibm_lms_flow_gunicorn-<step>.prof.

--sample: no cProfile; the one gunicorn worker of `profiled_wsgi:app` samples its own Python stack
every --interval seconds of its CPU time (SIGPROF), attributed to the step being served, so
waits get no samples and nothing inflates call-heavy code as cProfile does. Prints, per step,
the share of CPU by package and by function (own and inclusive), and writes the stacks
(folded, as flame-graph tools read them) to /tmp/ibm_lms_flow_samples-<step>.txt. (py-spy samples
wall-clock here: it does not tell this host's waits from CPU.) With --app floor the same is done for
the stack's floor (bench/floor_tool.py, its database set up as bench/run.py does), stacks in
/tmp/floor_flow_samples-<step>.txt, to set ours against it function by function.
"""

from __future__ import annotations

import argparse
import cProfile
import glob
import io
import json
import os
import pstats
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402

STEPS = ("login", "launch", "page")
BASE_URL = "http://127.0.0.1:8999"  # in-process: never listened on, the test client calls the app directly


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=run.DATABASES, default="postgresql")
    parser.add_argument("--rev", default="HEAD", help="commit of ours to profile (default HEAD)")
    parser.add_argument("--worktrees", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--keep-worktrees", action="store_true")
    parser.add_argument("--flows", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--gunicorn", action="store_true", help="profile inside a gunicorn worker")
    parser.add_argument("--sample", action="store_true",
                        help="sample a gunicorn worker's stacks on CPU time (SIGPROF) instead of cProfile")
    parser.add_argument("--interval", type=float, default=0.0005, help="--sample: seconds of CPU per sample")
    parser.add_argument("--app", choices=("ours", "floor"), default="ours",
                        help="--sample: the app sampled, ours or the stack's floor (bench/floor_tool.py), to set "
                             "ours against it step by step (default ours)")
    args = parser.parse_args()

    tree = run.open_tree("after", args.rev, args.worktrees)
    platform = None
    try:
        sys.path.insert(0, str(tree.path))
        users = run.bench_users(args.users)
        platform = run.PlatformProcess().start()
        courses = {"after": run.read_courses(tree.path / "courses")}
        with tempfile.TemporaryDirectory(prefix="ibm-lms-profile-") as tmp:
            bench = run.Bench(args.database, Path(tmp), platform, users, {"after": tree}, courses)
            print(f"ours at {args.rev} = {tree.short} ({tree.path}), {args.database}", flush=True)
            if args.sample:
                sample_in_gunicorn(bench, args)
            elif args.gunicorn:
                profile_in_gunicorn(bench, args)
            else:
                profile_in_process(bench, args)
    except run.BenchError as error:
        print(f"\nPROFILE FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        if platform is not None:
            platform.stop()
        if not args.keep_worktrees:
            run.close_tree(tree)
    return 0


def print_tables(stats: pstats.Stats, top: int, title: str) -> None:
    print(f"\n======== {title}")
    for order, restriction in (("tottime", ()), ("cumulative", ()), ("cumulative", ("ibm_lms/",))):
        out = io.StringIO()
        stats.stream = out
        stats.sort_stats(order).print_stats(*restriction, top)
        print(out.getvalue())


def profile_in_process(bench: run.Bench, args) -> None:
    env = run.prepare_ours(bench, "after", BASE_URL)
    # The app reads its settings from the environment, as under gunicorn: exactly the ones prepared.
    for key in [key for key in os.environ if key.startswith("IBM_LMS_")]:
        del os.environ[key]
    os.environ.update({key: value for key, value in env.items() if key.startswith("IBM_LMS_")})
    import ibm_lms
    from ibm_lms import create_app

    print(f"ibm_lms from {ibm_lms.__file__}")
    app = create_app()
    sim = bench.platform.sim
    profilers = {step: cProfile.Profile(time.process_time) for step in STEPS}
    cpu = dict.fromkeys(STEPS, 0.0)

    def timed(step: str, call, profile: bool):
        started = time.process_time()
        if profile:
            profilers[step].enable()
        try:
            return call()
        finally:
            if profile:
                profilers[step].disable()
            cpu[step] += time.process_time() - started

    def flow(i: int, profile: bool) -> None:
        user = bench.users[i % len(bench.users)]
        client = app.test_client()  # a new browser per flow
        client.set_cookie(run.PROBE_COOKIE, "1", domain="127.0.0.1")
        params = sim.login_parameters(target_link_uri=BASE_URL + run.PAGE_PATH, login_hint=user.subject)
        response = timed("login", lambda: client.get("/lti/login?" + urlencode(params), base_url=BASE_URL), profile)
        assert response.status_code == 302, (response.status_code, response.text[:300])
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        token = sim.sign(sim.launch_claims(nonce=query["nonce"][0], target_link_uri=BASE_URL + run.PAGE_PATH,
                                           user=user, locale="en"))
        response = timed("launch", lambda: client.post("/lti/launch", data={"id_token": token,
                                                                            "state": query["state"][0]},
                                                       base_url=BASE_URL), profile)
        assert response.status_code == 303, (response.status_code, response.text[:300])
        page = urlsplit(response.headers["Location"]).path
        response = timed("page", lambda: client.get(page, base_url=BASE_URL), profile)
        assert response.status_code == 200 and 'class="course-list"' in response.text, response.text[:300]

    n = args.flows
    for i in range(args.warmup):
        flow(i, False)
    for profile in (False, True):
        cpu.update(dict.fromkeys(STEPS, 0.0))
        first = args.warmup + (n if profile else 0)
        for i in range(first, first + n):
            flow(i, profile)
        label = "with profiler (inflated)" if profile else "without profiler"
        print(f"in-process CPU {label}, test client included: "
              + ", ".join(f"{step} {cpu[step] / n * 1000:.2f} ms" for step in STEPS) + " per flow", flush=True)
    for step in STEPS:
        profilers[step].dump_stats(f"/tmp/ibm_lms_flow-{step}.prof")
        print_tables(pstats.Stats(profilers[step], stream=io.StringIO()), args.top, f"{step} (in process)")


def profile_in_gunicorn(bench: run.Bench, args) -> None:
    run.WORKERS = 1
    flows = args.flows
    for profiled in (False, True):
        out_dir = bench.workdir / ("profiles" if profiled else "account")
        out_dir.mkdir()
        target = run.setup_ours(bench, "after", module="profiled_wsgi:app",
                                extra_env={"BENCH_PROFILE_DIR": str(out_dir), "BENCH_PROFILE": "1" if profiled else "0"})
        try:
            run.run_flows(target, args.warmup, 1, 0, 300)
            phase = run.run_flows(target, flows, 1, args.warmup, 600)
            run.http_request("GET", target.base_url + "/__bench/dump")
        finally:
            target.server.stop()
        label = "with profiler (inflated)" if profiled else "without profiler"
        print(f"gunicorn worker, {label}: server CPU per flow "
              + ", ".join(f"{step} {phase.steps[step].server_cpu / flows * 1000:.2f} ms" for step in STEPS)
              + f", total {phase.total.server_cpu / flows * 1000:.2f} ms", flush=True)
        for path in glob.glob(str(out_dir / "worker-*.json")):
            account = json.loads(Path(path).read_text())["cpu"]
            for step, (count, seconds) in sorted(account.items()):
                print(f"  inside the app, {step}: {seconds / count * 1000:.2f} ms CPU per request ({count} requests)")
        if profiled:
            for step in STEPS:
                files = glob.glob(str(out_dir / f"worker-*-{step}.prof"))
                if not files:
                    continue
                stats = pstats.Stats(*files, stream=io.StringIO())
                stats.dump_stats(f"/tmp/ibm_lms_flow_gunicorn-{step}.prof")
                print_tables(stats, args.top, f"{step} (gunicorn worker)")


def sample_in_gunicorn(bench: run.Bench, args) -> None:
    run.WORKERS = 1
    flows = args.flows
    out_dir = bench.workdir / "samples"
    out_dir.mkdir()
    extra_env = {"BENCH_PROFILE_DIR": str(out_dir), "BENCH_PROFILE": "sample", "BENCH_SAMPLE_SECONDS": str(args.interval)}
    if args.app == "floor":
        target = run.setup_floor(bench, module="profiled_wsgi:app", extra_env=extra_env | {"BENCH_PROFILED_APP": "floor"})
    else:
        target = run.setup_ours(bench, "after", module="profiled_wsgi:app", extra_env=extra_env)
    try:
        run.run_flows(target, args.warmup, 1, 0, 300)
        run.http_request("GET", target.base_url + "/__bench/dump")
        warm = {step: Counter(found) for path in glob.glob(str(out_dir / "worker-*.json"))
                for step, found in json.loads(Path(path).read_text())["samples"].items()}
        phase = run.run_flows(target, flows, 1, args.warmup, 600)
        run.http_request("GET", target.base_url + "/__bench/dump")
    finally:
        target.server.stop()
    # The kernel delivers ITIMER_PROF at most once per tick (4 ms at HZ=250): fewer samples, not biased ones.
    print(f"gunicorn worker with the CPU sampler (asked every {args.interval * 1000:.2f} ms of CPU): server CPU per flow "
          + ", ".join(f"{step} {phase.steps[step].server_cpu / flows * 1000:.2f} ms" for step in STEPS)
          + f", total {phase.total.server_cpu / flows * 1000:.2f} ms", flush=True)
    for path in glob.glob(str(out_dir / "worker-*.json")):
        samples = json.loads(Path(path).read_text())["samples"]
        for step in STEPS:
            found = Counter(samples.get(step, {}))
            found.subtract(warm.get(step, Counter()))
            stacks = Counter({tuple(_frame(f) for f in stack.split(";")): count
                              for stack, count in found.items() if count > 0})
            Path(f"/tmp/{'floor' if args.app == 'floor' else 'ibm_lms'}_flow_samples-{step}.txt").write_text(
                "".join(f"{stack} {count}\n" for stack, count in found.items() if count > 0))
            print_samples(step, stacks, args.top, phase.steps[step].server_cpu / flows * 1000)


FRAME = re.compile(r"^(?P<name>.*) \((?P<path>[^()]*)\)$")


def _frame(text: str) -> tuple[str, str]:
    """(function, file) of one recorded frame."""
    match = FRAME.match(text)
    return (match["name"], match["path"]) if match else (text, "")


def package_of(path: str) -> str:
    if "/ibm_lms/" in path:
        room = path.split("/ibm_lms/", 1)[1].split("/")
        return "ibm_lms/" + (room[0] if len(room) > 1 else room[0].removesuffix(".py"))
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/")[0].removesuffix(".py")
    if path.startswith("<"):
        return "python (frozen)"
    if "/templates/" in path:
        return "templates"
    name = Path(path).name
    return f"stdlib {name.removesuffix('.py')}" if name.endswith(".py") else (path or "native")


def _short(frame: tuple[str, str]) -> str:
    name, path = frame
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    elif "/ibm_lms/" in path:
        path = "ibm_lms/" + path.split("/ibm_lms/", 1)[1]
    elif "/lib/python" in path:
        path = path.split("/lib/python", 1)[1].split("/", 1)[-1]
    return f"{name} ({path})"


def print_samples(step: str, stacks: Counter, top: int, cpu_ms: float) -> None:
    """Shares of the samples, and what they come to in ms of the step's measured server CPU per request."""
    total = sum(stacks.values())
    print(f"\n======== {step}: {total} CPU samples; {cpu_ms:.2f} ms server CPU per request "
          f"(a share of 10% is {cpu_ms / 10:.2f} ms)")
    if not total:
        return
    by_package: Counter = Counter()
    own: Counter = Counter()
    inclusive: Counter = Counter()
    for stack, count in stacks.items():
        leaf = stack[-1]
        by_package[package_of(leaf[1])] += count
        own[_short(leaf)] += count
        for frame in set(stack):
            inclusive[_short(frame)] += count
    for title, counter, limit in (("own CPU by package", by_package, 20), ("own CPU by function", own, top),
                                  ("inclusive CPU by function", inclusive, 2 * top)):
        print(f"-- {title}")
        for key, count in counter.most_common(limit):
            print(f"{count / total * 100:6.1f}%  {count / total * cpu_ms:5.3f} ms  {key}")


if __name__ == "__main__":
    sys.exit(main())

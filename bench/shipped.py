"""What ships: real `vercel build` bundles started read-only by Vercel's runtime, as on Vercel.

    .venv/bin/python -m bench.shipped [--runs 11] [--postgres-url URL]

Every bundle is built by the Vercel CLI, mounted read-only at /var/task and started by a bare
Python 3.12 with nothing but the bundle importable. Measured per bundle, in interleaved rounds so
machine noise hits every row alike:
(a) a new instance answering ``GET /api/health``: the runtime's own init duration plus the request,
    and the two phases of that init the runtime reports: its own start-up, then importing the app;
(b) a new instance's first ``GET /api/items`` on PostgreSQL (tables created and seeded beforehand);
(c) warm requests per second through the runtime with 1 and 16 concurrent clients;
(d) round trips to PostgreSQL per warm request (a counting relay), and one client's warm
    ``GET /api/items`` when every round trip costs 2 ms (1 ms each way).
Needs root (the read-only mount namespace), npm and uv; starts a throwaway PostgreSQL unless given one.
"""

import argparse
import contextlib
import shutil
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask_vercel_doctor.vercel_runtime import start_built_function
from template_tools import postgres
from template_tools.commands import run
from template_tools.environments import find_python, project_env, project_requirements, project_venv
from template_tools.matrix import DRIVERS, STRATEGIES
from template_tools.projects import create_tables, run_in_project
from template_tools.repository import render, template_snapshot
from template_tools.vercel import bundle_files, vercel_build
from template_tools.wire import RoundTripRelay

from .candidates import BENCH_EXTRAS, FIXTURES
from .timing import rotated

HELLO, HELLO_BYTECODE, CLASSIC = "hello-world, default build", "hello-world, with bytecode", "classic eager"
BUILDER_SWITCH_TOO = "lazy, builder's switch too"
OTHER_DRIVER = DRIVERS[1]  # two strategies built with it too, to weigh the choice
# The init duration's phases, as the runtime reports them: its own start-up, then importing the app.
PHASES = ("bootstrap", "importFn")
CONCURRENT_CLIENTS = 16
REQUESTS_PER_SAMPLE = 240  # enough for a sample of about a second: fewer made the rates noise
ONE_WAY_DELAY = 0.001  # seconds: a 2 ms round trip, a database in the same region
# A warm GET takes about 10 ms: many samples cost little and steady the median.
LATENCY_ROUNDS, LATENCY_SAMPLES_PER_ROUND = 15, 7


@dataclass
class Bundle:
    label: str
    source: Path
    bytecode: (
        bool | None
    )  # False: a plain `vercel build`; True: the builder's switch; None: as vercel.json asks
    driver: str | None = None  # SQLAlchemy's name for the PostgreSQL driver; None: no database
    health_only: bool = False  # measured only as a new instance answering /api/health
    func_dir: Path = None
    built: Path = None
    files: int = 0
    megabytes: float = 0.0
    build_seconds: float = 0.0
    database_url: str = ""  # its own seeded database
    results: dict = field(default_factory=dict)

    @property
    def health_path(self):
        return "/" if self.driver is None else "/api/health"

    def env(self, database_url=None):
        url = database_url or self.database_url or "postgresql://nobody@127.0.0.1:1/none"
        return {} if self.driver is None else {"VERCEL": "1", "DATABASE_URL": driver_url(url, self.driver)}


def driver_url(url, driver):
    scheme, rest = url.split("://", 1)
    return f"postgresql+{driver}://{rest}"


def bundles_to_measure(work):
    """The hello-world both ways, the classic app, and every strategy as a plain build, on each driver.

    One more: the lazy project built with the builder's switch too, as a deployment gets it when
    Vercel applies vercel.json's build.env (only a new instance answering /api/health).
    """
    template = template_snapshot(work / "template")
    projects = {s: render(template, work / "src" / s, db_init_strategy=s) for s in STRATEGIES}
    other = {
        s: render(
            template, work / "src" / f"{s}-{OTHER_DRIVER}", db_init_strategy=s, database_driver=OTHER_DRIVER
        )
        for s in ("lazy", "manual")
    }
    bundles = [
        Bundle(HELLO, FIXTURES / "bare_flask", False),
        Bundle(HELLO_BYTECODE, FIXTURES / "bare_flask", True),
        Bundle(CLASSIC, FIXTURES / "classic_flask", True, "psycopg2"),
    ]
    bundles += [Bundle(s, projects[s], False, DRIVERS[0]) for s in STRATEGIES]
    bundles += [Bundle(f"{s}, {OTHER_DRIVER}", project, False, OTHER_DRIVER) for s, project in other.items()]
    bundles.append(Bundle(BUILDER_SWITCH_TOO, projects["lazy"], True, DRIVERS[0], health_only=True))
    return {**projects, **{f"{s}-{OTHER_DRIVER}": p for s, p in other.items()}}, bundles


def build(bundles, work):
    for number, bundle in enumerate(bundles):
        bundle.built, bundle.func_dir, bundle.build_seconds, _ = vercel_build(
            bundle.source, work / f"build-{number}", bytecode=bundle.bytecode
        )
        files = bundle_files(bundle.func_dir, bundle.built)
        bundle.files, bundle.megabytes = len(files), sum(files.values()) / 1e6


def prepare_databases(bundles, projects, server):
    """A database per bundle with its tables, made its own way, and three rows."""
    requirements = {r for p in projects.values() for r in project_requirements(p)} | set(BENCH_EXTRAS)
    venv = project_venv("3.12", sorted(requirements))
    for bundle in bundles:
        if bundle.driver is None or bundle.health_only:
            continue
        bundle.database_url = server.create_database()
        url = driver_url(bundle.database_url, bundle.driver)
        if bundle.label == CLASSIC:
            env = project_env(venv, DATABASE_URL=url)
            run(["flask", "--app", "index", "init-db"], cwd=FIXTURES / "classic_flask", env=env)
        else:
            create_tables(bundle.source, venv, url)
        run_in_project(bundle.source, venv, "seed_items", url, env={"DATABASE_URL": url})


def start(bundle, **env):
    return start_built_function(
        bundle.func_dir, project_root=bundle.built, python=find_python("3.12"), env={**bundle.env(), **env}
    )


def cold_starts(bundles, runs):
    """(a) and (b): a new instance's init duration plus its first request, interleaved rounds.

    With (a) go the runtime's phases: ``bootstrap`` (its own modules, before the app's first line)
    and ``importFn`` (importing the app's entrypoint).
    """
    paths = {b.label: {"health": b.health_path} for b in bundles}
    for bundle in bundles:
        if bundle.driver and not bundle.health_only:
            paths[bundle.label]["items"] = "/api/items"
    samples = {(label, kind): [] for label, kinds in paths.items() for kind in [*kinds, *PHASES]}
    for round_number in range(runs):
        for bundle in rotated(bundles, round_number):
            for kind, path in paths[bundle.label].items():
                with start(bundle) as function:
                    started = time.perf_counter()
                    assert function.get(path).status == 200, f"{bundle.label}: GET {path}"
                    first_request_ms = (time.perf_counter() - started) * 1000
                    samples[(bundle.label, kind)].append(function.init_duration_ms + first_request_ms)
                    if kind == "health":
                        phases = init_phases(function)
                        for phase in PHASES:
                            samples[(bundle.label, phase)].append(phases[phase])
    for (label, kind), values in samples.items():
        key = kind if kind in PHASES else f"cold {kind}"
        next(b for b in bundles if b.label == label).results[key] = statistics.median(values)


def init_phases(function):
    """The phases (ms) of the init duration, as the runtime reports them in ``server-started``."""
    started = next(m for m in function.messages.items if m["type"] == "server-started")
    return started["payload"]["phases"]


def requests_per_second(function, path, clients, requests_each):
    """Warm requests/second with ``clients`` threads sending ``requests_each`` each; fails on any error."""
    errors = []

    def client():
        for _ in range(requests_each):
            status = function.get(path, wait_for_end=False).status
            if status != 200:
                errors.append(status)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert not errors, f"GET {path} answered {sorted(set(errors))} under {clients} clients"
    return clients * requests_each / elapsed


def warm_throughput(bundles, runs):
    """(c): warm requests/second on /api/health (or /) and /api/items, 1 and 16 clients, interleaved."""
    bundles = [b for b in bundles if not b.health_only]
    targets = [(b, b.health_path) for b in bundles] + [(b, "/api/items") for b in bundles if b.driver]
    samples = {(b.label, path, clients): [] for b, path in targets for clients in (1, CONCURRENT_CLIENTS)}
    with contextlib.ExitStack() as running:
        functions = {bundle.label: running.enter_context(start(bundle)) for bundle in bundles}
        for round_number in range(max(5, runs // 2)):
            for bundle, path in rotated(targets, round_number):
                function = functions[bundle.label]
                function.get(path)  # warm: the engine and a pooled connection exist
                for clients in (1, CONCURRENT_CLIENTS):
                    rate = requests_per_second(function, path, clients, REQUESTS_PER_SAMPLE // clients)
                    samples[(bundle.label, path, clients)].append(rate)
    for (label, path, clients), values in samples.items():
        bundle = next(b for b in bundles if b.label == label)
        bundle.results[f"rps {path} {clients}"] = statistics.median(values)


def round_trips_and_latency(bundles, runs):
    """(d): round trips of a warm GET and POST, and a warm GET's time at a 2 ms round trip.

    The timings come in interleaved rounds, every bundle running behind its own delaying relay.
    """
    measured = [b for b in bundles if b.driver and not b.health_only]
    for bundle in measured:
        with through_relay(bundle, RoundTripRelay(database_port(bundle))) as (function, relay):
            for method in ("GET", "POST"):
                before = relay.count()
                send(function, method)
                bundle.results[f"round trips {method}"] = relay.count() - before
    timings = {bundle.label: [] for bundle in measured}
    with contextlib.ExitStack() as running:
        functions = {
            bundle.label: running.enter_context(
                through_relay(bundle, RoundTripRelay(database_port(bundle), delay=ONE_WAY_DELAY))
            )[0]
            for bundle in measured
        }
        for round_number in range(max(runs, LATENCY_ROUNDS)):
            for bundle in rotated(measured, round_number):
                for _ in range(LATENCY_SAMPLES_PER_ROUND):
                    started = time.perf_counter()
                    send(functions[bundle.label], "GET")
                    timings[bundle.label].append((time.perf_counter() - started) * 1000)
    for bundle in measured:
        bundle.results["GET at 2 ms"] = statistics.median(timings[bundle.label])


def database_port(bundle):
    return int(bundle.database_url.rsplit(":", 1)[1].split("/")[0])


@contextlib.contextmanager
def through_relay(bundle, relay):
    """The bundle started with its database behind ``relay``, warm: a GET and a POST already served."""
    with (
        relay,
        start(bundle, DATABASE_URL=driver_url(relay.url(bundle.database_url), bundle.driver)) as function,
    ):
        send(function, "GET")
        send(function, "POST")
        yield function, relay


def send(function, method):
    if method == "POST":
        assert function.post("/api/items", body={"name": "counted"}).status == 201
    else:
        assert function.get("/api/items").status == 200


def measure(runs, postgres_url=None):
    """Build every bundle, prepare its database, measure (a) to (d); returns the bundles with results."""
    work = Path(tempfile.mkdtemp(prefix="bench-shipped-"))
    server = postgres.ExternalPostgres(postgres_url) if postgres_url else postgres.start_server()
    projects, bundles = bundles_to_measure(work)
    try:
        build(bundles, work)
        prepare_databases(bundles, projects, server)
        cold_starts(bundles, runs)
        warm_throughput(bundles, runs)
        round_trips_and_latency(bundles, runs)
        return bundles
    finally:
        for bundle in bundles:
            if bundle.database_url:
                server.drop_database(bundle.database_url)
        server.close()
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.shipped", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="cold starts per row (median; default 11)")
    parser.add_argument("--postgres-url", help="a server where databases may be created (default: start one)")
    options = parser.parse_args()
    from .report import shipped_markdown

    print(shipped_markdown(measure(options.runs, options.postgres_url), options.runs))


if __name__ == "__main__":
    main()

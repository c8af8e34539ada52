"""Side-by-side benchmark: every strategy vs bare Flask vs a classic eager Flask app.

Run from the repository root: ``.venv/bin/python bench/benchmark.py`` (``--help`` for options).
Each measurement runs every candidate round-robin, so machine noise hits all of them alike;
the ratios in the table are the claims, the absolute times only describe this machine.
"""

import argparse
import datetime
import functools
import http.client
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent / "tests"))

from cold_start import bundles_markdown, measure_bundles, measure_init_durations  # noqa: E402
from support import (  # noqa: E402  (the template's test helpers: one venv recipe for both)
    REPO_ROOT,
    STRATEGIES,
    UV,
    find_python,
    project_requirements,
    project_venv,
    run,
    template_snapshot,
)
from vercel_tools import vercel_platform  # noqa: E402

FIXTURES = BENCH_DIR / "fixtures"
RESULTS_FILE = BENCH_DIR / "results.md"
README = REPO_ROOT / "README.md"
README_START, README_END = "<!-- benchmark:start -->", "<!-- benchmark:end -->"
BARE, CLASSIC = "bare Flask", "classic eager"
# What the classic app and the driver comparison need beyond the generated projects' dependencies.
BENCH_EXTRAS = ["flask-sqlalchemy>=3.1,<4", "flask-migrate>=4.1,<5", "psycopg2-binary>=2.9,<3"]
# Vercel's own example ships `flask` alone; the classic app ships what its imports need.
BARE_REQUIREMENTS = ["flask>=3.1,<4"]
CLASSIC_REQUIREMENTS = ["flask>=3.1,<4", *BENCH_EXTRAS]
VERCEL_SIZE_LIMIT_MB = 250
INIT_TOKEN = "benchmark-init-token"
FIRST_REQUEST = (
    "import index\n"
    "response = index.app.test_client().get('/api/items')\n"
    "assert response.status_code == 200, response.get_data(as_text=True)\n"
)
SEED_ITEMS = (
    "import sys\n"
    "from sqlalchemy import create_engine, text\n"
    "with create_engine(sys.argv[1]).begin() as connection:\n"
    "    if connection.execute(text('SELECT count(*) FROM items')).scalar() == 0:\n"
    "        connection.execute(text(\"INSERT INTO items (name) VALUES ('Milk'), ('Eggs'), ('Bread')\"))\n"
)
CLASSIC_CREATE_ALL = (
    "import index\nfrom classic import db\nwith index.app.app_context():\n    db.create_all()\n"
)
# How each candidate gets its tables before the timed runs (the lazy strategy needs nothing).
SETUP = {
    "migrations": [["flask", "--app", "index", "db", "upgrade"]],
    "manual": [["flask", "--app", "index", "init-db"]],
    "init_endpoint": [
        [
            "python",
            "-c",
            "import index\n"
            f"headers = {{'Authorization': 'Bearer {INIT_TOKEN}'}}\n"
            "r = index.app.test_client().post('/_init', headers=headers)\n"
            "assert r.status_code == 200, r.get_json()\n",
        ]
    ],
    CLASSIC: [["python", "-c", CLASSIC_CREATE_ALL]],
}


@dataclass
class Candidate:
    name: str
    directory: Path
    requirements: list = field(default_factory=list)


def vercel_runtime_init_ms(runs, candidates, venv):
    """Median init duration (ms) Vercel's own runtime announces per cold start, read-only from source.

    Uses the replay harness every rendered project ships (tests/vercel_platform.py) through
    bench/cold_start.py; ``{name: None}`` with the reason printed when the harness cannot run here.
    """
    try:
        platform = vercel_platform(next(c.directory for c in candidates if c.name in STRATEGIES))
        starts = {}
        for c in candidates:
            start = functools.partial(
                platform.start_project, c.directory, python=venv / "bin" / "python", env=vercel_env(c)
            )
            starts[c.name] = (start, "/" if c.name == BARE else "/api/health")
        durations = measure_init_durations(starts, runs)
    except Exception as error:  # no unshare/root, say: the table says so instead of failing the run
        print(f"Vercel runtime init duration not measured: {error}", file=sys.stderr)
        return {c.name: None for c in candidates}
    return {name: statistics.median(values) for name, values in durations.items()}


def vercel_bundles(runs, candidates, scratch):
    """Each strategy's real `vercel build` output beside Vercel's hello-world's (bench/cold_start.py).

    None, with the reason printed, when the CLI, the build's Python or the read-only mount is missing.
    """
    projects = {c.name: c.directory for c in candidates if c.name in STRATEGIES}
    hello = next(c.directory for c in candidates if c.name == BARE)
    try:
        return measure_bundles(projects, hello, scratch / "bundles", runs)
    except Exception as error:  # as above: the table says "not measured" instead of failing the run
        print(f"Vercel bundles not measured: {error}", file=sys.stderr)
        return None


def vercel_env(candidate):
    """What the function's environment holds on Vercel: the classic app cannot start without DATABASE_URL."""
    return {"DATABASE_URL": "sqlite:////tmp/never-opened.sqlite3"} if candidate.name == CLASSIC else {}


def main():
    options = parse_arguments()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        scratch = Path(scratch)
        candidates = render_candidates(scratch / "projects", options.python)
        requirements = sorted({r for c in candidates for r in c.requirements} | set(BENCH_EXTRAS))
        venv = project_venv(options.python, requirements)
        sections = measure_everything(options, candidates, venv, scratch)
    table = results_markdown(sections, options, time.perf_counter() - started)
    print(table)
    RESULTS_FILE.write_text(table)
    print(f"written to {RESULTS_FILE.relative_to(REPO_ROOT)}")
    if options.update_readme:
        update_readme(table)
        print("README.md updated")


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="processes per candidate (median; default 15)")
    parser.add_argument("--requests", type=int, default=100, help="requests per candidate per round")
    parser.add_argument("--python", default="3.12", help="Python version of the venv (default 3.12)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL"),
        help="an empty throwaway PostgreSQL database for the cold-request rows (or BENCH_POSTGRES_URL)",
    )
    parser.add_argument("--update-readme", action="store_true", help="put the table into README.md")
    options = parser.parse_args()
    if options.runs < 15:
        parser.error("--runs must be at least 15: fewer runs make the medians noise")
    if find_python(options.python) is None:
        parser.error(f"no Python {options.python} found on PATH or under pyenv")
    return options


def render_candidates(destination, python_version):
    """Every strategy rendered from this checkout (uncommitted changes included), plus the fixtures."""
    from copier import run_copy

    template = template_snapshot(destination.parent / "template")
    settings = destination.parent / "copier-settings.yml"
    settings.write_text("{}\n")  # ignore the developer's own Copier settings
    os.environ["COPIER_SETTINGS_PATH"] = str(settings)
    candidates = [Candidate(BARE, copy_fixture("bare_flask", destination), BARE_REQUIREMENTS)]
    candidates.append(Candidate(CLASSIC, copy_fixture("classic_flask", destination), CLASSIC_REQUIREMENTS))
    for strategy in STRATEGIES:
        project = destination / strategy
        answers = {"project_name": "Acme Notes", "db_init_strategy": strategy}
        answers["python_version"] = python_version
        run_copy(str(template), project, data=answers, defaults=True, quiet=True)
        runtime = project_requirements(project)  # runtime + dev: the shared venv runs the CLI too
        candidates.append(Candidate(strategy, project, runtime))
    return candidates


def copy_fixture(name, destination):
    target = destination / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def measure_everything(options, candidates, venv, scratch):
    apps = [c for c in candidates if c.name != BARE]
    sections = {"import": time_processes(options.runs, candidates, venv, ["python", "-c", "import index"])}
    databases = {"SQLite": lambda c: f"sqlite:///{scratch / (c.name.replace(' ', '_') + '.sqlite3')}"}
    if options.postgres_url:
        databases["PostgreSQL"] = lambda c: options.postgres_url
    for label, url_for in databases.items():
        for candidate in apps:
            prepare_database(candidate, venv, url_for(candidate))
        sections[f"first request, {label}"] = time_processes(
            options.runs, apps, venv, ["python", "-c", FIRST_REQUEST], url_for
        )
    sections["drivers"] = time_drivers(options.runs, venv)
    sections["requests/second"] = requests_per_second(options, candidates, venv, databases["SQLite"])
    sections["size"] = {c.name: installed_size_mb(c, options.python, scratch) for c in candidates}
    sections["vercel init"] = vercel_runtime_init_ms(options.runs, candidates, venv)
    sections["vercel bundles"] = vercel_bundles(options.runs, candidates, scratch)
    return sections


def candidate_env(venv, database_url):
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}
    env["INIT_TOKEN"] = INIT_TOKEN
    if database_url:
        env["DATABASE_URL"] = sqlalchemy_url(database_url)
    return env


def sqlalchemy_url(url):
    """The classic app hands DATABASE_URL to SQLAlchemy as is: name the same driver the template uses."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def prepare_database(candidate, venv, url):
    """Create the candidate's tables its own way, then seed a few rows (once, untimed)."""
    env = candidate_env(venv, url)
    for command in SETUP.get(candidate.name, []):
        run(command, cwd=candidate.directory, env=env)
    run(["python", "-c", FIRST_REQUEST], cwd=candidate.directory, env=env)  # lazy creates them here
    run(["python", "-c", SEED_ITEMS, env["DATABASE_URL"]], cwd=candidate.directory, env=env)


def default_url(candidate):
    """Import alone needs no database; the classic app still insists on DATABASE_URL being set."""
    return f"sqlite:///{candidate.directory / 'never-opened.sqlite3'}" if candidate.name == CLASSIC else None


def time_processes(runs, candidates, venv, command, url_for=default_url):
    """Median wall time (ms) of ``command`` in each candidate's directory, against its database."""
    jobs = {c.name: (command, c.directory, candidate_env(venv, url_for(c))) for c in candidates}
    return median_process_ms(runs, jobs)


def median_process_ms(runs, jobs):
    """Median wall time (ms) of each job, a whole process, with the runs interleaved round-robin."""
    for command, cwd, env in jobs.values():  # one untimed run each: writes the .pyc files later runs read
        run(command, cwd=cwd, env=env)
    samples = {name: [] for name in jobs}
    for round_number in range(runs):
        for name in rotated(list(jobs), round_number):
            command, cwd, env = jobs[name]
            start = time.perf_counter()
            run(command, cwd=cwd, env=env)
            samples[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def rotated(items, offset):
    offset %= len(items)
    return items[offset:] + items[:offset]


def time_drivers(runs, venv):
    """Import cost of each PostgreSQL driver, over a bare interpreter, measured in the same run."""
    programs = {
        "interpreter": "pass",
        "psycopg (3)": "import psycopg",
        "psycopg2": "import psycopg2",
        "SQLAlchemy + psycopg (3)": "import sqlalchemy; sqlalchemy.create_engine('postgresql+psycopg://u@h/d')",
        "SQLAlchemy + psycopg2": "import sqlalchemy; sqlalchemy.create_engine('postgresql+psycopg2://u@h/d')",
    }
    env = candidate_env(venv, None)
    jobs = {name: (["python", "-c", code], BENCH_DIR, env) for name, code in programs.items()}
    medians = median_process_ms(runs, jobs)
    baseline = medians.pop("interpreter")
    return {name: value - baseline for name, value in medians.items()}


def requests_per_second(options, candidates, venv, url_for):
    """Warm requests/second through the same stdlib WSGI server, median over interleaved rounds."""
    paths = {c.name: ["/"] if c.name == BARE else ["/api/health", "/api/items"] for c in candidates}
    servers = {}
    try:
        for c in candidates:
            servers[c.name] = start_server(c, venv, url_for(c))  # bare Flask ignores it
        targets = [(c.name, path) for c in candidates for path in paths[c.name]]
        for name, path in targets:  # warm: first request builds the engine and the pool
            fetch(servers[name][1], path)
        samples = {target: [] for target in targets}
        for round_number in range(options.runs):
            for name, path in rotated(targets, round_number):
                port = servers[name][1]
                start = time.perf_counter()
                for _ in range(options.requests):
                    fetch(port, path)
                samples[(name, path)].append(options.requests / (time.perf_counter() - start))
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=10)
    return {target: statistics.median(values) for target, values in samples.items()}


def start_server(candidate, venv, database_url):
    port = free_port()
    process = subprocess.Popen(
        ["python", str(BENCH_DIR / "serve.py"), str(candidate.directory), str(port)],
        cwd=candidate.directory,
        env=candidate_env(venv, database_url),
        stdout=subprocess.PIPE,
        text=True,
    )
    if process.stdout.readline().strip() != "ready":
        process.kill()
        raise RuntimeError(f"the WSGI server for {candidate.name} did not start")
    return process, port


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path} on port {port} answered {response.status}")
    finally:
        connection.close()


def installed_size_mb(candidate, python_version, scratch):
    """Bytes in site-packages after installing only the runtime dependencies (what Vercel ships)."""
    if candidate.name in STRATEGIES:
        import tomllib

        pyproject = tomllib.loads((candidate.directory / "pyproject.toml").read_text())
        requirements = pyproject["project"]["dependencies"]
    else:
        requirements = candidate.requirements
    venv = scratch / "size" / candidate.name.replace(" ", "_")
    run([UV, "venv", "--quiet", "--python", find_python(python_version), str(venv)])
    python = str(venv / "bin" / "python")
    run([UV, "pip", "install", "--quiet", "--link-mode=copy", "--python", python, *requirements])
    site_packages = next(venv.glob("lib/python*/site-packages"))
    total = sum(p.stat().st_size for p in site_packages.rglob("*") if p.is_file() and not p.is_symlink())
    shutil.rmtree(venv)
    return total / 1_000_000


def ratio(value, reference):
    return f"{value / reference:.2f}x"


def verdict(value, goal, higher_is_better=False):
    met = value >= goal if higher_is_better else value <= goal
    return "meets" if met else "MISSES"


def results_markdown(sections, options, elapsed):
    cores = os.cpu_count()
    lines = [
        f"Measured {datetime.date.today().isoformat()} on {platform.machine()} with {cores} cores,"
        f" Python {options.python} ({platform.system()}); medians of {options.runs} interleaved runs;"
        f" whole run {elapsed:.0f} s; load average at the end {os.getloadavg()[0]:.1f}.",
        "",
        "**Cold start: `import index`, whole process** (goal: every strategy <= 1.05x bare Flask)",
        "",
        "| candidate | ms | vs bare Flask | goal |",
        "|---|---:|---:|---|",
    ]
    imports = sections["import"]
    for name, ms in imports.items():
        goal = verdict(ms / imports[BARE], 1.05) if name in STRATEGIES else ""
        lines.append(f"| {name} | {ms:.0f} | {ratio(ms, imports[BARE])} | {goal} |")
    for key in [k for k in sections if k.startswith("first request")]:
        label = key.split(", ")[1]
        goal_text = " (goal on PostgreSQL: <= 0.8x classic eager)" if label == "PostgreSQL" else ""
        lines += [
            "",
            f"**Cold import + first `GET /api/items`, {label}, whole process**{goal_text}",
            "",
            "| candidate | ms | vs classic eager | goal |",
            "|---|---:|---:|---|",
        ]
        values = sections[key]
        for name, ms in values.items():
            goal = verdict(ms / values[CLASSIC], 0.8) if label == "PostgreSQL" and name in STRATEGIES else ""
            lines.append(f"| {name} | {ms:.0f} | {ratio(ms, values[CLASSIC])} | {goal} |")
    if not options.postgres_url:
        lines += ["", "PostgreSQL rows: not measured (pass `--postgres-url` or set BENCH_POSTGRES_URL)."]
    lines += [
        "",
        "**PostgreSQL driver import cost** (ms over a bare interpreter)",
        "",
        "| import | ms |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {ms:.0f} |" for name, ms in sections["drivers"].items()]
    rps = sections["requests/second"]
    bare_rps = rps[(BARE, "/")]
    lines += [
        "",
        f"**Warm requests/second, stdlib `wsgiref` server (single-threaded), {options.requests} requests"
        " per round, SQLite** (goal: >= 0.9x bare Flask's `/`; `/api/items` queries the database, which"
        " bare Flask never does, so it is also compared with the classic app's same route)",
        "",
        "| candidate | path | req/s | vs bare Flask | vs classic eager, same path | goal (vs bare Flask) |",
        "|---|---|---:|---:|---:|---|",
    ]
    for (name, path), value in rps.items():
        goal = verdict(value / bare_rps, 0.9, higher_is_better=True) if name in STRATEGIES else ""
        same_path = ratio(value, rps[(CLASSIC, path)]) if (CLASSIC, path) in rps else ""
        lines.append(f"| {name} | `{path}` | {value:.0f} | {ratio(value, bare_rps)} | {same_path} | {goal} |")
    lines += [
        "",
        f"**Installed runtime dependencies** (site-packages; Vercel's limit is {VERCEL_SIZE_LIMIT_MB} MB)",
        "",
        "| candidate | MB | of the limit |",
        "|---|---:|---:|",
    ]
    for name, mb in sections["size"].items():
        lines.append(f"| {name} | {mb:.1f} | {mb / VERCEL_SIZE_LIMIT_MB:.0%} |")
    inits = sections["vercel init"]
    lines += [
        "",
        "**Vercel runtime init duration** (announced by Vercel's Python runtime, read-only, from source)",
        "",
        "| candidate | init ms | vs bare Flask |",
        "|---|---:|---:|",
    ]
    for name, ms in inits.items():
        if ms is None:
            lines.append(f"| {name} | not measured (harness not available) | |")
        else:
            lines.append(f"| {name} | {ms:.0f} | {ratio(ms, inits[BARE]) if inits[BARE] else ''} |")
    lines.append("")
    if sections["vercel bundles"] is None:
        lines.append("**Vercel bundles**: not measured (no `vercel build` or read-only harness here).")
    else:
        lines.append(bundles_markdown(sections["vercel bundles"], options.runs).rstrip("\n"))
    return "\n".join(lines) + "\n"


def update_readme(table):
    text = README.read_text()
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    README.write_text(text[:start] + "\n" + table + text[end:])


if __name__ == "__main__":
    main()

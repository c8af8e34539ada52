"""Reproduce the cold-start race on PostgreSQL: the seed's naive create_all vs the generated strategies.

Each trial gets a fresh database and releases N processes at the same instant (a barrier);
each does what a cold start or a build does first, then adds one row. Afterwards the
database must hold the complete schema (and, for migrations, one alembic_version row =
head). Prints, per contender, the trials with a failure and the failed processes:

    python scripts/race.py [--processes 8] [--trials 10] [--url postgresql://...] [--json]

Without --url (or TEST_DATABASE_URL) it starts a throwaway server (tests/pgserver.py).
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import psycopg

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

import pgserver  # noqa: E402  (lives with the tests, which share it)
from support import STRATEGIES, project_requirements, project_venv  # noqa: E402

PACKAGE = "race_app"
INIT_TOKEN = "race-init-token"
MIGRATION_LOCK_LINE = "            lock_schema(connection)\n"
# (name, rendered strategy, what each process does first); naive ones sit right above their fix.
CONTENDERS = {
    "naive": ("lazy", "seed's Option 2: a flag per instance, then create_all"),
    "lazy": ("lazy", "lazy: first request (POST /api/items)"),
    "init_endpoint": ("init_endpoint", "init_endpoint: POST /_init"),
    "manual": ("manual", "manual: flask init-db"),
    "naive_migrations": ("migrations", "stock Flask-Migrate env: db upgrade, no lock"),
    "migrations": ("migrations", "migrations: python -m <pkg>.migrate"),
}
GENERATED = ("lazy", "init_endpoint", "manual", "migrations")

# Runs in the project's venv, in the project directory. It loads everything, then forks the
# racers; each builds its app and waits at the barrier, so only the first database work races.
LAUNCHER = r"""
import json, multiprocessing, os, sys, traceback

contender, package, processes, urls = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
import flask, psycopg, sqlalchemy
from sqlalchemy.orm import Session
app_module = __import__(package, fromlist=["create_app"])
models = __import__(package + ".models", fromlist=["Base"])
config = __import__(package + ".config", fromlist=["normalize_database_url"])
db = __import__(package + ".db", fromlist=["get_engine"])
if "migrations" in contender:
    migrate = __import__(package + ".migrate", fromlist=["main"])
    import alembic, flask_migrate
    from alembic.script import ScriptDirectory

def first_work(n):
    if contender == "naive":
        engine = sqlalchemy.create_engine(config.normalize_database_url(os.environ["DATABASE_URL"]))
        engine.connect().close()  # a warm pooled connection, so only the DDL races
        yield
        models.Base.metadata.create_all(engine)  # what the seed's flag guards: once per instance, no lock
        with Session(engine) as session:
            session.add(models.Item(name=f"racer {n}"))
            session.commit()
        return
    app = app_module.create_app()
    app.config["PROPAGATE_EXCEPTIONS"] = True  # a 500 raises here, so the report shows the error
    client = app.test_client()
    if "migrations" not in contender:  # the migration engine is unpooled: nothing to warm
        with app.app_context():
            db.get_engine().connect().close()
    if contender == "manual":
        runner = app.test_cli_runner()
    yield
    if contender == "init_endpoint":
        response = client.post("/_init", headers={"Authorization": "Bearer " + os.environ["INIT_TOKEN"]})
        assert response.status_code == 200, response.get_data(as_text=True)
    elif contender == "manual":
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output + repr(result.exception)
    elif "migrations" in contender:
        assert migrate.main() == 0
    response = client.post("/api/items", json={"name": f"racer {n}"})
    assert response.status_code == 201, response.get_data(as_text=True)

def racer(n, url, barrier, results):
    os.environ["DATABASE_URL"] = url
    try:
        steps = first_work(n)
        next(steps)
        barrier.wait(timeout=60)
        next(steps, None)
        results.put((n, None))
    except BaseException as error:
        results.put((n, traceback.format_exception_only(error)[-1].strip()))

context = multiprocessing.get_context("fork")
trials = []
for url in urls:
    barrier, results = context.Barrier(processes), context.Queue()
    racers = [context.Process(target=racer, args=(n, url, barrier, results)) for n in range(processes)]
    for process in racers:
        process.start()
    errors = {}
    for _ in racers:
        try:
            n, error = results.get(timeout=120)
        except Exception:
            break
        errors[n] = error
    for process in racers:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
    trials.append([errors.get(n, "no answer within 120 s") for n in range(processes)])
head = None
if "migrations" in contender:
    head = ScriptDirectory(str(migrate.MIGRATIONS_DIRECTORY)).get_current_head()
print(json.dumps({"trials": trials, "head": head}))
"""


def render_projects(directory):
    """One project per strategy under ``directory``, plus the migrations one without its lock."""
    from copier import run_copy
    from copier.errors import DirtyLocalWarning

    warnings.simplefilter("ignore", DirtyLocalWarning)  # uncommitted template changes are the point
    projects = {}
    for strategy in STRATEGIES:
        projects[strategy] = directory / strategy
        answers = {"project_name": "Race App", "package_name": PACKAGE, "db_init_strategy": strategy}
        run_copy(str(REPO_ROOT), projects[strategy], data=answers, defaults=True, quiet=True, vcs_ref="HEAD")
    stock = directory / "migrations-stock"
    shutil.copytree(projects["migrations"], stock)
    env_py = stock / "migrations" / "env.py"
    if MIGRATION_LOCK_LINE not in env_py.read_text():
        raise SystemExit(
            "race.py: migrations/env.py no longer takes the lock as expected; update this script"
        )
    env_py.write_text(env_py.read_text().replace(MIGRATION_LOCK_LINE, ""))
    projects["naive_migrations"] = stock
    projects["naive"] = projects["lazy"]
    return projects


def default_python(projects):
    requirements = set()
    for strategy in STRATEGIES:
        requirements.update(project_requirements(projects[strategy]))
    return str(project_venv("3.12", sorted(requirements)) / "bin" / "python")


def schema_problem(url, head, rows_expected):
    """What is wrong with the database after a trial, or None."""
    with psycopg.connect(pgserver.libpq_url(url)) as connection:
        columns = {
            row[0]
            for row in connection.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'items'"
            )
        }
        if columns != {"id", "name"}:
            return f"items has columns {sorted(columns)}"
        rows = connection.execute("SELECT count(*) FROM items").fetchone()[0]
        if rows != rows_expected:
            return f"items has {rows} rows, expected {rows_expected}"
        if head is not None:
            versions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
            if versions != [head]:
                return f"alembic_version holds {versions}, expected [{head!r}]"
    return None


def race(contender, project, python, server, processes, trials):
    urls = [server.create_database() for _ in range(trials)]
    try:
        env = {"PATH": f"{Path(python).parent}:/usr/bin:/bin", "INIT_TOKEN": INIT_TOKEN}
        command = [python, "-c", LAUNCHER, contender, PACKAGE, str(processes), *urls]
        launched = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=1800)
        if launched.returncode != 0:
            raise SystemExit(f"race.py: the {contender} launcher failed:\n{launched.stderr}")
        report = json.loads(launched.stdout.splitlines()[-1])
        errors, schema_problems = [], []
        for url, trial in zip(urls, report["trials"], strict=True):
            errors.append([error for error in trial if error])
            problem = schema_problem(url, report["head"], rows_expected=trial.count(None))
            schema_problems.append(problem)
    finally:
        for url in urls:
            server.drop_database(url)
    return {
        "contender": contender,
        "what": CONTENDERS[contender][1],
        "trials": trials,
        "processes": processes * trials,
        "trials_with_failure": sum(1 for trial in errors if trial),
        "failed_processes": sum(len(trial) for trial in errors),
        "errors": Counter(error.split("\n")[0][:140] for trial in errors for error in trial).most_common(3),
        "schema_problems": [problem for problem in schema_problems if problem],
    }


def print_table(results, processes, trials, version):
    print(f"{processes} processes released at once × {trials} trials, PostgreSQL {version}\n")
    print(f"{'what raced':<58} {'trials with a failure':>22} {'failed processes':>17}  schema")
    for result in results:
        schema = "complete" if not result["schema_problems"] else result["schema_problems"][0]
        print(
            f"{result['what']:<58} {result['trials_with_failure']:>13}/{result['trials']:<8}"
            f" {result['failed_processes']:>8}/{result['processes']:<8}  {schema}"
        )
    for result in results:
        for error, count in result["errors"]:
            print(f"  {result['contender']}: {count}× {error}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument(
        "--url", help="a PostgreSQL server's URL (default: TEST_DATABASE_URL, else start one)"
    )
    parser.add_argument(
        "--python", help="an interpreter with the projects' dependencies (default: build one)"
    )
    parser.add_argument("--only", nargs="+", choices=CONTENDERS, default=list(CONTENDERS))
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)

    server = pgserver.ExternalPostgres(args.url) if args.url else pgserver.start_server()
    try:
        with tempfile.TemporaryDirectory(prefix="race-") as directory:
            projects = render_projects(Path(directory))
            python = args.python or default_python(projects)
            results = [
                race(name, projects[name], python, server, args.processes, args.trials) for name in args.only
            ]
        with psycopg.connect(pgserver.libpq_url(server.url)) as connection:
            version = connection.execute("SHOW server_version").fetchone()[0]
    finally:
        server.close()
    if args.json:
        print(json.dumps(results))
    else:
        print_table(results, args.processes, args.trials, version)
    generated_failed = any(
        r["failed_processes"] or r["schema_problems"] for r in results if r["contender"] in GENERATED
    )
    return 1 if generated_failed else 0


if __name__ == "__main__":
    sys.exit(main())

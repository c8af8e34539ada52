"""Reproduce the cold-start race on PostgreSQL: the seed's naive create_all vs the generated strategies.

Each trial gets a fresh database and releases N processes at the same instant (a barrier);
each does what a cold start or a build does first, then adds one row. Afterwards the
database must hold the complete schema (and, for migrations, one alembic_version row =
head). Prints, per contender, the trials with a failure and the failed processes:

    python -m template_tools.race [--processes 8] [--trials 10] [--url postgresql://...] [--json]

Without --url (or TEST_DATABASE_URL) it starts a throwaway server (template_tools.postgres).
"""

import argparse
import json
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import psycopg

from . import postgres
from .environments import project_requirements, project_venv
from .matrix import STRATEGIES
from .projects import report_of, run_in_project
from .repository import render, template_snapshot

PACKAGE = "race_app"
INIT_TOKEN = "race-init-token"
# The stock Flask-Migrate environment: the same transaction as migrations/env.py, without its lock.
LOCKED_MIGRATION = "with db.schema_change() as connection:"
UNLOCKED_MIGRATION = "with db.build_engine(db.database_url(True), pooled=False).begin() as connection:"
# (name, rendered strategy, what each process does first); naive ones sit right above their fix.
CONTENDERS = {
    "naive": ("lazy", "seed's Option 2: a flag per instance, then create_all"),
    "lazy": ("lazy", "lazy: first request (POST /api/items)"),
    "init_endpoint": ("init_endpoint", "init_endpoint: POST /_init"),
    "manual": ("manual", "manual: flask init-db"),
    "naive_migrations": ("migrations", "stock Flask-Migrate env: db upgrade, no lock"),
    "migrations": ("migrations", "migrations: python -m <pkg>.schema"),
}
GENERATED = ("lazy", "init_endpoint", "manual", "migrations")


def render_projects(directory):
    """One project per strategy under ``directory``, plus the migrations one without its lock."""
    template = template_snapshot(directory / "template")  # uncommitted changes are the point
    projects = {}
    for strategy in STRATEGIES:
        answers = {"project_name": "Race App", "package_name": PACKAGE, "db_init_strategy": strategy}
        projects[strategy] = render(template, directory / strategy, **answers)
    stock = directory / "migrations-stock"
    shutil.copytree(projects["migrations"], stock)
    env_py = stock / "migrations" / "env.py"
    if LOCKED_MIGRATION not in env_py.read_text():
        raise SystemExit("race: migrations/env.py no longer takes the lock as expected; update this module")
    env_py.write_text(env_py.read_text().replace(LOCKED_MIGRATION, UNLOCKED_MIGRATION))
    projects["naive_migrations"] = stock
    projects["naive"] = projects["lazy"]
    return projects


def default_venv(projects):
    requirements = set()
    for strategy in STRATEGIES:
        requirements.update(project_requirements(projects[strategy]))
    return project_venv("3.12", sorted(requirements))


def schema_problem(url, head, rows_expected):
    """What is wrong with the database after a trial, or None."""
    with psycopg.connect(postgres.libpq_url(url)) as connection:
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


def race(contender, project, venv, server, processes, trials):
    urls = [server.create_database() for _ in range(trials)]
    try:
        launched = run_in_project(project, venv, "race_launcher", contender, processes, *urls,
                                  env={"INIT_TOKEN": INIT_TOKEN}, check=False, timeout=1800)  # fmt: skip
        if launched.returncode != 0:
            raise SystemExit(f"race: the {contender} launcher failed:\n{launched.stderr}")
        report = report_of(launched)
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
        "--venv", type=Path, help="a venv with the projects' dependencies (default: build one)"
    )
    parser.add_argument("--only", nargs="+", choices=CONTENDERS, default=list(CONTENDERS))
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)

    server = postgres.ExternalPostgres(args.url) if args.url else postgres.start_server()
    try:
        with tempfile.TemporaryDirectory(prefix="race-") as directory:
            projects = render_projects(Path(directory))
            venv = args.venv or default_venv(projects)
            results = [
                race(name, projects[name], venv, server, args.processes, args.trials) for name in args.only
            ]
        with psycopg.connect(postgres.libpq_url(server.url)) as connection:
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

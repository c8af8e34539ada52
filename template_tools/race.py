"""Reproduce the cold-start race on PostgreSQL: the seed's naive create_all vs the generated strategies.

Each trial gets a fresh database and releases N processes at the same instant (a barrier);
each does what a cold start or a build does first, then adds one row. Afterwards the
database must hold the complete schema (and, for migrations, one alembic_version row =
head) and every row written. Prints, per contender, the trials with a failure and the failed
processes:

    python -m template_tools.race [--processes 8] [--trials 10] [--url postgresql://...] [--json]
                                  [--pooled] [--requests 0]

Without --url (or TEST_DATABASE_URL) it starts a throwaway server (template_tools.postgres).
With --pooled the racers' DATABASE_URL goes through a transaction-mode pooler (TEST_POOLER_URL, or a
throwaway PgBouncer with a server pool of 2) and DATABASE_URL_UNPOOLED straight to the server, as
Neon sets them; --requests N has each racer go on with N requests that write and read.
"""

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from . import pgbouncer, postgres
from .environments import project_requirements, project_venv
from .matrix import STRATEGIES
from .projects import report_of, run_in_project
from .repository import render, template_snapshot

PACKAGE = "race_app"
INIT_TOKEN = "race-init-token"
# The stock Flask-Migrate environment: the same transaction as migrations/env.py, without its lock.
UNLOCKED_MIGRATION = {
    "with db.schema_change() as connection:": "with engine(db.database_url(True)).begin() as connection:",
    f"from {PACKAGE} import db\n": (
        f"from {PACKAGE} import db\nfrom {PACKAGE}.engine import build_engine as engine\n"
    ),
}
# The negative control behind a pooler: psycopg 3 left to prepare statements server-side (psycopg2 never
# prepares, so only a psycopg 3 project can show it).
PSYCOPG = "psycopg"
PSYCOPG_DEFAULT_PREPARE = {
    'options["connect_args"] = {"prepare_threshold": None}': 'options["connect_args"] = {}',
}
# (name, rendered strategy, what each process does first); naive ones sit right above their fix.
CONTENDERS = {
    "naive": ("lazy", "seed's Option 2: a flag per instance, then create_all"),
    "lazy": ("lazy", "lazy: first request (POST /api/items)"),
    "init_endpoint": ("init_endpoint", "init_endpoint: POST /_init"),
    "manual": ("manual", "manual: flask init-db"),
    "naive_migrations": ("migrations", "stock Flask-Migrate env: db upgrade, no lock"),
    "migrations": ("migrations", "migrations: python -m <pkg>.schema"),
    "lazy_psycopg": ("lazy", "lazy on psycopg 3: first request (POST /api/items)"),
    "prepared": ("lazy", "lazy on psycopg 3 with its default prepare_threshold (5)"),
}
GENERATED = ("lazy", "init_endpoint", "manual", "migrations")


def render_projects(directory):
    """One project per strategy under ``directory``, the migrations one without its lock, and the lazy
    one on psycopg 3 with and without its prepare threshold."""
    template = template_snapshot(directory / "template")  # uncommitted changes are the point
    answers = {"project_name": "Race App", "package_name": PACKAGE}
    projects = {}
    for strategy in STRATEGIES:
        projects[strategy] = render(template, directory / strategy, **answers, db_init_strategy=strategy)
    projects["naive_migrations"] = copy_with_change(
        projects["migrations"], directory / "migrations-stock", "migrations/env.py", UNLOCKED_MIGRATION
    )
    projects["naive"] = projects["lazy"]
    projects["lazy_psycopg"] = render(
        template, directory / "lazy-psycopg", **answers, db_init_strategy="lazy", database_driver=PSYCOPG
    )
    projects["prepared"] = copy_with_change(
        projects["lazy_psycopg"], directory / "lazy-prepared", f"{PACKAGE}/engine.py", PSYCOPG_DEFAULT_PREPARE
    )
    return projects


def copy_with_change(project, destination, name, replacements):
    """A copy of ``project`` whose file ``name`` has each key of ``replacements`` replaced by its value."""
    shutil.copytree(project, destination)
    path = destination / name
    text = path.read_text()
    for old, new in replacements.items():
        if old not in text:
            raise SystemExit(f"race: {name} no longer contains {old!r}; update this module")
        text = text.replace(old, new)
    path.write_text(text)
    return destination


def default_venv(projects):
    requirements = set()
    for name in (*STRATEGIES, "lazy_psycopg"):
        requirements.update(project_requirements(projects[name]))
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


class PoolWatch:
    """Samples PgBouncer's SHOW POOLS while the racers run: the most client and server connections
    its pools for ``databases`` held at once (None without a pooler whose console we can read)."""

    def __init__(self, pooler, databases):
        self.pooler, self.databases = pooler, set(databases)
        self.clients = self.servers = 0 if hasattr(pooler, "admin") else None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self):
        while not self.stopped.wait(0.02):
            pools = [pool for pool in self.pooler.admin("SHOW POOLS") if pool["database"] in self.databases]
            for pool in pools:
                self.clients = max(self.clients, pool["cl_active"] + pool["cl_waiting"])
                servers = [value for key, value in pool.items() if key.startswith("sv_")]
                self.servers = max(self.servers, sum(servers))

    def __enter__(self):
        if self.clients is not None:
            self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()


def race(contender, project, venv, server, processes, trials, pooler=None, requests=0):
    urls = [server.create_database() for _ in range(trials)]
    environments = [{"DATABASE_URL": url} for url in urls]
    if pooler is not None:  # as Neon sets them: requests through the pooler, schema changes direct
        environments = [
            {"DATABASE_URL": pooler.pooled_url(url), "DATABASE_URL_UNPOOLED": url} for url in urls
        ]
    watch = PoolWatch(pooler, [urlsplit(url).path.lstrip("/") for url in urls])
    started = time.monotonic()
    try:
        with watch:
            launched = run_in_project(
                project, venv, "race_launcher", contender, processes, requests,
                *map(json.dumps, environments), env={"INIT_TOKEN": INIT_TOKEN}, check=False, timeout=1800,
            )  # fmt: skip
        seconds = time.monotonic() - started
        if launched.returncode != 0:
            raise SystemExit(f"race: the {contender} launcher failed:\n{launched.stderr}")
        report = report_of(launched)
        errors, schema_problems = [], []
        for url, trial in zip(urls, report["trials"], strict=True):
            errors.append([error for error, _ in trial if error])
            rows = sum(written for _, written in trial)
            schema_problems.append(schema_problem(url, report["head"], rows_expected=rows))
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
        "requests": processes * trials * (1 + requests),
        "seconds": round(seconds, 1),
        "peak_pooler_clients": watch.clients,
        "peak_pooler_servers": watch.servers,
    }


def print_table(results, processes, trials, version, through):
    print(f"{processes} processes released at once × {trials} trials, PostgreSQL {version}, {through}\n")
    print(f"{'what raced':<58} {'trials with a failure':>22} {'failed processes':>17}  schema")
    for result in results:
        schema = "complete" if not result["schema_problems"] else result["schema_problems"][0]
        print(
            f"{result['what']:<58} {result['trials_with_failure']:>13}/{result['trials']:<8}"
            f" {result['failed_processes']:>8}/{result['processes']:<8}  {schema}"
        )
    if any(result["requests"] > result["processes"] for result in results):
        print(f"\n{'mixed load after the race':<58} {'requests':>9} {'failed':>7} {'seconds':>8}  pooler")
        for result in results:
            pooler = ""
            if result["peak_pooler_clients"] is not None:
                pooler = f"{result['peak_pooler_clients']} clients on {result['peak_pooler_servers']} servers"
            print(
                f"{result['what']:<58} {result['requests']:>9} {result['failed_processes']:>7}"
                f" {result['seconds']:>8}  {pooler}"
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
    parser.add_argument(
        "--pooled", action="store_true",
        help="requests through a transaction-mode pooler (TEST_POOLER_URL, else a throwaway PgBouncer)",
    )  # fmt: skip
    parser.add_argument("--requests", type=int, default=0, help="requests per racer after the race")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)

    server = postgres.ExternalPostgres(args.url) if args.url else postgres.start_server()
    pooler = None
    try:
        pooler = pgbouncer.start_pooler(server) if args.pooled else None
        with tempfile.TemporaryDirectory(prefix="race-") as directory:
            projects = render_projects(Path(directory))
            venv = args.venv or default_venv(projects)
            results = [
                race(name, projects[name], venv, server, args.processes, args.trials, pooler, args.requests)
                for name in args.only
            ]
        with psycopg.connect(postgres.libpq_url(server.url)) as connection:
            version = connection.execute("SHOW server_version").fetchone()[0]
    finally:
        if pooler is not None:
            pooler.close()
        server.close()
    if args.json:
        print(json.dumps(results))
    else:
        through = "through a transaction-mode pooler (DDL direct)" if args.pooled else "direct"
        print_table(results, args.processes, args.trials, version, through)
    generated_failed = any(
        r["failed_processes"] or r["schema_problems"] for r in results if r["contender"] in GENERATED
    )
    return 1 if generated_failed else 0


if __name__ == "__main__":
    sys.exit(main())

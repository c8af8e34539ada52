"""Every strategy on a real PostgreSQL: its own tests, cold-start and migration races, adopting a
create_all database, an outage at cold start, and the serverless connection settings.
(Behind a pooler, waking up, hung, under concurrency: test_serverless_postgres.py.)"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from template_tools import REPO_ROOT
from template_tools.commands import run
from template_tools.environments import project_env
from template_tools.matrix import DRIVERS, STRATEGIES
from template_tools.postgres import query
from template_tools.projects import (
    add_model_field,
    create_tables,
    project_script,
    report_of,
    requests_in_project,
    run_in_project,
    run_project_tests,
)


@pytest.mark.slow
@pytest.mark.parametrize(
    "strategy, driver", [*((s, DRIVERS[0]) for s in STRATEGIES), ("migrations", DRIVERS[1])]
)  # the other driver once: its errors and settings differ, the strategies' code does not
def test_the_generated_test_suite_passes_on_postgres_through_a_transaction_pooler(
    render, venv_for, postgres_server, pooled_database, strategy, driver
):
    """As the app runs on Neon: TEST_DATABASE_URL through the pooler (PgBouncer, transaction mode),
    TEST_DATABASE_URL_UNPOOLED straight to the server, where the suite's schema changes go."""
    project = render(db_init_strategy=strategy, database_driver=driver, cron=True)  # cron: its queries too
    venv = venv_for("3.12")
    env = {"TEST_DATABASE_URL": pooled_database.pooled, "TEST_DATABASE_URL_UNPOOLED": pooled_database.direct}
    if postgres_server.can_restart:  # our servers trust every local login: a password exercises hiding it
        env = {name: url.replace("postgres@", "postgres:never-printed@", 1) for name, url in env.items()}
    result = run_project_tests(project, venv, env={**env, "PYTHONDONTWRITEBYTECODE": "1"})
    assert " passed" in result.stdout and "skipped" not in result.stdout
    assert query(pooled_database.direct, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == []


RACE_BASELINES = ("naive", "naive_migrations")  # the seed's ways, with no lock


@pytest.mark.slow
def test_racing_cold_starts_and_migrations_never_fail(venv_for, postgres_server):
    """template_tools.race: 8 processes released at once × 10 trials per strategy, and the naive baselines."""
    result = run(
        [sys.executable, "-m", "template_tools.race", "--processes", "8", "--trials", "10", "--json",
         "--url", postgres_server.url, "--venv", venv_for("3.12"), "--only", *STRATEGIES, *RACE_BASELINES],
        timeout=1800,
    )  # fmt: skip
    results = {entry["contender"]: entry for entry in json.loads(result.stdout)}
    for strategy in STRATEGIES:
        assert results[strategy]["failed_processes"] == 0, results[strategy]["errors"]
        assert results[strategy]["schema_problems"] == []
    # The harness must really race: without a lock, the seed's way fails.
    assert results["naive"]["failed_processes"] > 0
    assert results["naive_migrations"]["failed_processes"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("old_strategy", ["lazy", "manual", "init_endpoint"])
def test_switching_to_migrations_adopts_the_database_with_its_rows(
    render, venv_for, postgres_url, tmp_path, old_strategy
):
    venv = venv_for("3.12")
    old = render(db_init_strategy=old_strategy)
    env = project_env(venv, DATABASE_URL=postgres_url, PYTHONDONTWRITEBYTECODE="1")
    create_tables(old, venv, postgres_url)
    added = requests_in_project(old, venv, postgres_url, ["POST", "/api/items", {"name": "Milk"}],
                                ["POST", "/api/items", {"name": "Eggs"}])  # fmt: skip
    assert [answer["status"] for answer in added] == [201, 201]

    new = tmp_path / "switched"  # the same package, now with migrations, on the same database
    shutil.copytree(render(db_init_strategy="migrations"), new)
    run(["flask", "--app", "index", "db", "upgrade"], cwd=new, env=env)
    assert query(postgres_url, "SELECT version_num FROM alembic_version") == [("0001",)]
    assert query(postgres_url, "SELECT id, name FROM items ORDER BY id") == [(1, "Milk"), (2, "Eggs")]

    add_model_field(new, "price: Mapped[int | None]")
    run(["flask", "--app", "index", "db", "migrate", "-m", "add price"], cwd=new, env=env)
    run(["flask", "--app", "index", "db", "upgrade"], cwd=new, env=env)
    [(head,)] = query(postgres_url, "SELECT version_num FROM alembic_version")
    assert head != "0001" and len(list((new / "migrations" / "versions").glob(f"{head}_*.py"))) == 1
    assert query(postgres_url, "SELECT id, name, price FROM items ORDER BY id") == [
        (1, "Milk", None),
        (2, "Eggs", None),
    ]
    [listed] = requests_in_project(new, venv, postgres_url, ["GET", "/api/items"])
    assert [item["name"] for item in listed["json"]] == ["Milk", "Eggs"]
    run(["flask", "--app", "index", "db", "check"], cwd=new, env=env)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_cold_start_while_the_database_is_down_recovers_without_a_restart(
    render, venv_for, postgres_server, postgres_url, strategy
):
    if not postgres_server.can_restart:
        pytest.skip("needs the suite's own server: one given by TEST_DATABASE_URL cannot be stopped")
    project = render(db_init_strategy=strategy)
    venv = venv_for("3.12")
    if strategy != "lazy":
        create_tables(project, venv, postgres_url)
    postgres_server.stop("fast")
    try:
        cold_start, after = [["GET", "/api/health"], ["GET", "/api/items"]], [["GET", "/api/items"]]
        client = subprocess.Popen(
            [venv / "bin" / "python", project_script("client"), json.dumps(cold_start), json.dumps(after)],
            cwd=project, env=project_env(venv, DATABASE_URL=postgres_url, PYTHONPATH=str(project),
                                         PYTHONDONTWRITEBYTECODE="1"),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        down = json.loads(client.stdout.readline() or "null")
    finally:
        postgres_server.start()
    back, errors = client.communicate("the database is back\n", timeout=60)
    assert down is not None, errors
    health, items = down
    assert health["status"] == 200
    assert items["status"] == 503
    assert items["json"]["message"] == "The database is unreachable right now; try again shortly."
    assert items["seconds"] < 5  # a stopped server refuses at once; no timeout is waited for
    [back_up] = json.loads(back.splitlines()[-1])
    assert back_up["status"] == 200, back_up
    print(f"{strategy}: down → 503 in {items['seconds'] * 1000:.0f} ms; back → 200")


@pytest.mark.parametrize("driver", DRIVERS)
def test_the_engine_uses_the_serverless_connection_settings(render, venv_for, postgres_url, driver):
    project = render(db_init_strategy="lazy", database_driver=driver)
    result = run_in_project(project, venv_for("3.12"), "engine_settings", env={"DATABASE_URL": postgres_url})
    settings = report_of(result)
    assert settings == {
        "driver": driver,  # postgres_url names no driver: the project's own is used
        "prepare_threshold": None,
        "connect_timeout": "10",
        "autocommit": True,  # reads cost one round trip; a write opens a transaction (test_round_trips)
        "prepared": 0,
        "pool": [2, 3, False],  # no ping per checkout: a closed connection is seen on its socket
    }


INNER_TEST = """
def test_needs_postgres(postgres_url):
    pass
"""


def run_inner_test(tmp_path, source, **env):
    """Run ``source`` as a test module with this suite's conftest, in an environment of ``env`` alone
    (and what Python needs); its output."""
    (tmp_path / "test_inner.py").write_text(source)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "TEST_"))}
    full_env.update(env, PYTHONPATH=str(REPO_ROOT / "tests"))
    result = run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-rse", "test_inner.py"],
        cwd=tmp_path, env=full_env, check=False,
    )  # fmt: skip
    return result.stdout


@pytest.mark.parametrize("required, outcome", [("", "1 skipped"), ("1", "1 error")])
def test_without_a_server_postgres_tests_skip_unless_required(tmp_path, required, outcome):
    output = run_inner_test(tmp_path, INNER_TEST, PATH="/usr/bin:/bin", REQUIRE_POSTGRES=required)
    assert outcome in output, output
    assert "initdb and postgres not found on PATH" in output


INNER_POOLER_TEST = """
def test_needs_a_pooler(postgres_pooler):
    pass
"""


@pytest.mark.parametrize("required, outcome", [("", "1 skipped"), ("1", "1 error")])
def test_without_pgbouncer_pooler_tests_skip_unless_required(postgres_server, tmp_path, required, outcome):
    """No pgbouncer on PATH and no apt-get to install it: a failure in CI, as a missing PostgreSQL is."""
    (tmp_path / "bin").mkdir()  # PATH: git alone (Copier, which pytest-copie loads, wants it)
    (tmp_path / "bin" / "git").symlink_to(shutil.which("git"))
    output = run_inner_test(
        tmp_path, INNER_POOLER_TEST, PATH=str(tmp_path / "bin"), REQUIRE_POSTGRES=required,
        TEST_DATABASE_URL=postgres_server.url,
    )  # fmt: skip
    assert outcome in output, output
    assert "pgbouncer not found on PATH" in output


def running(pid):
    """True while ``pid`` runs (a zombie waiting to be reaped does not count)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("ending", ["exits", "killed"])
def test_the_throwaway_server_never_outlives_its_owner(postgres_server, ending):
    if not postgres_server.can_restart:
        pytest.skip("TEST_DATABASE_URL is set: the suite starts no server of its own")
    owner = subprocess.Popen(
        [sys.executable, "-m", "template_tools.postgres"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    pid, directory, _ = owner.stdout.readline().split()
    if ending == "killed":
        owner.kill()  # no atexit, no cleanup code: only the kernel's parent-death signal is left
    owner.stdin.close()
    owner.wait(timeout=60)
    deadline = time.monotonic() + 10
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(pid)
    if ending == "exits":
        assert not os.path.exists(directory)
    shutil.rmtree(directory, ignore_errors=True)  # after a SIGKILL nobody else can

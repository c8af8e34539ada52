"""Every strategy on a real PostgreSQL: its own tests, cold-start and migration races, adopting a
create_all database, an outage at cold start, and the serverless connection settings."""

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from support import REPO_ROOT, STRATEGIES, run

INIT_TOKEN = "postgres-test-token"
# How each strategy creates its tables, run in the project directory.
CREATE_TABLES = {
    "migrations": ["flask", "--app", "index", "db", "upgrade"],
    "manual": ["flask", "--app", "index", "init-db"],
    "init_endpoint": [
        "python",
        "-c",
        "from index import app; import os; bearer = {'Authorization': 'Bearer ' + os.environ['INIT_TOKEN']}; "
        "assert app.test_client().post('/_init', headers=bearer).status_code == 200",
    ],
    "lazy": [
        "python",
        "-c",
        "from index import app; assert app.test_client().get('/api/items').status_code == 200",
    ],
}


def env_for(venv, database_url, **extra):
    """A project's environment: its venv, its database, nothing from ours."""
    return {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "DATABASE_URL": database_url,
        "INIT_TOKEN": INIT_TOKEN,
        "PYTHONDONTWRITEBYTECODE": "1",  # the rendered projects are shared: test_rendering reads every file
        **extra,
    }


def in_project(project, venv, database_url, code):
    """Run ``code`` with the project's interpreter in its directory; returns its last line as JSON."""
    result = run(["python", "-c", textwrap.dedent(code)], cwd=project, env=env_for(venv, database_url))
    return json.loads(result.stdout.splitlines()[-1])


def query(database_url, sql):
    import psycopg

    import pgserver

    with psycopg.connect(pgserver.libpq_url(database_url)) as connection:
        return connection.execute(sql).fetchall()


@pytest.mark.slow
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_generated_test_suite_passes_on_postgres(
    render, venv_for, postgres_server, postgres_url, strategy
):
    project = render(db_init_strategy=strategy)
    venv = venv_for("3.12")
    test_url = postgres_url
    if postgres_server.can_restart:  # our server trusts every local login: a password exercises hiding it
        test_url = postgres_url.replace("postgres@", "postgres:never-printed@", 1)
    result = run(
        [venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env={**env_for(venv, ""), "TEST_DATABASE_URL": test_url},
    )
    assert " passed" in result.stdout and "skipped" not in result.stdout
    assert query(postgres_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == []


@pytest.mark.slow
def test_racing_cold_starts_and_migrations_never_fail(venv_for, postgres_server):
    """scripts/race.py: 8 processes released at once × 10 trials per strategy, and the naive baselines."""
    result = run(
        [sys.executable, REPO_ROOT / "scripts" / "race.py", "--processes", "8", "--trials", "10", "--json",
         "--url", postgres_server.url, "--python", venv_for("3.12") / "bin" / "python"],
        timeout=1800,
    )  # fmt: skip
    results = {entry["contender"]: entry for entry in json.loads(result.stdout)}
    for strategy in STRATEGIES:
        assert results[strategy]["failed_processes"] == 0, results[strategy]["errors"]
        assert results[strategy]["schema_problems"] == []
    # The harness must really race: without a lock, the seed's way fails.
    assert results["naive"]["failed_processes"] > 0
    assert results["naive_migrations"]["failed_processes"] > 0


def add_price_column(project):
    models = project / "acme_notes" / "models.py"
    field = "    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))\n"
    assert field in models.read_text()
    models.write_text(models.read_text().replace(field, field + "    price: Mapped[int | None]\n"))


@pytest.mark.slow
@pytest.mark.parametrize("old_strategy", ["lazy", "manual", "init_endpoint"])
def test_switching_to_migrations_adopts_the_database_with_its_rows(
    render, venv_for, postgres_url, tmp_path, old_strategy
):
    venv = venv_for("3.12")
    old = render(db_init_strategy=old_strategy)
    env = env_for(venv, postgres_url)
    run(CREATE_TABLES[old_strategy], cwd=old, env=env)
    added = in_project(old, venv, postgres_url, """
        import json
        from index import app
        client = app.test_client()
        print(json.dumps([client.post("/api/items", json={"name": n}).status_code for n in ("Milk", "Eggs")]))
    """)  # fmt: skip
    assert added == [201, 201]

    new = tmp_path / "switched"  # the same package, now with migrations, on the same database
    shutil.copytree(render(db_init_strategy="migrations"), new)
    run(["flask", "--app", "index", "db", "upgrade"], cwd=new, env=env)
    assert query(postgres_url, "SELECT version_num FROM alembic_version") == [("0001",)]
    assert query(postgres_url, "SELECT id, name FROM items ORDER BY id") == [(1, "Milk"), (2, "Eggs")]

    add_price_column(new)
    run(["flask", "--app", "index", "db", "migrate", "-m", "add price"], cwd=new, env=env)
    run(["flask", "--app", "index", "db", "upgrade"], cwd=new, env=env)
    [(head,)] = query(postgres_url, "SELECT version_num FROM alembic_version")
    assert head != "0001" and len(list((new / "migrations" / "versions").glob(f"{head}_*.py"))) == 1
    assert query(postgres_url, "SELECT id, name, price FROM items ORDER BY id") == [
        (1, "Milk", None),
        (2, "Eggs", None),
    ]
    listed = in_project(new, venv, postgres_url, """
        import json
        from index import app
        print(json.dumps(app.test_client().get("/api/items").get_json()))
    """)  # fmt: skip
    assert [item["name"] for item in listed] == ["Milk", "Eggs"]
    run(["flask", "--app", "index", "db", "check"], cwd=new, env=env)


# Runs in the project: a cold start with the database down, then again after it is back.
OUTAGE_DRIVER = """
import json, sys, time
started = time.perf_counter()
from index import app
imported = time.perf_counter() - started
client = app.test_client()

def timed(path):
    started = time.perf_counter()
    response = client.get(path)
    seconds = time.perf_counter() - started
    return {"status": response.status_code, "json": response.get_json(), "seconds": seconds}

print(json.dumps({"import_seconds": imported, "health": timed("/api/health"), "items": timed("/api/items")}))
sys.stdout.flush()
sys.stdin.readline()  # the database is back
print(json.dumps({"items": timed("/api/items")}))
"""


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_cold_start_while_the_database_is_down_recovers_without_a_restart(
    render, venv_for, postgres_server, postgres_url, strategy
):
    if not postgres_server.can_restart:
        pytest.skip("needs the suite's own server: one given by TEST_DATABASE_URL cannot be stopped")
    project = render(db_init_strategy=strategy)
    venv = venv_for("3.12")
    if strategy != "lazy":
        run(CREATE_TABLES[strategy], cwd=project, env=env_for(venv, postgres_url))
    postgres_server.stop("fast")
    try:
        driver = subprocess.Popen(
            ["python", "-c", OUTAGE_DRIVER], cwd=project, env=env_for(venv, postgres_url),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        down = json.loads(driver.stdout.readline() or "null")
    finally:
        postgres_server.start()
    back, errors = driver.communicate("the database is back\n", timeout=60)
    assert down is not None, errors
    assert down["health"]["status"] == 200
    assert down["items"]["status"] == 503
    assert down["items"]["json"]["message"] == "The database is unreachable right now; try again shortly."
    assert down["items"]["seconds"] < 5  # a stopped server refuses at once; no timeout is waited for
    after = json.loads(back.splitlines()[-1])
    assert after["items"]["status"] == 200, after
    print(f"{strategy}: down → 503 in {down['items']['seconds'] * 1000:.0f} ms; back → 200")


@pytest.fixture
def unanswering_address():
    """A loopback port that completes TCP handshakes and then never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # never accepted: the kernel's backlog answers the handshake, nobody speaks
        yield f"postgresql://nobody@127.0.0.1:{listener.getsockname()[1]}/nothing"


@pytest.mark.slow
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_database_that_never_answers_is_a_503_within_the_connect_timeout(
    render, venv_for, unanswering_address, strategy
):
    project = render(db_init_strategy=strategy)
    answer = in_project(project, venv_for("3.12"), unanswering_address, """
        import json, time
        from index import app
        client = app.test_client()

        def items():
            started = time.perf_counter()
            return client.get("/api/items").status_code, time.perf_counter() - started

        first, again = items(), items()  # the first one also loads SQLAlchemy and the driver
        print(json.dumps({"first": first, "again": again, "health": client.get("/api/health").status_code}))
    """)  # fmt: skip
    assert answer["first"][0] == answer["again"][0] == 503 and answer["health"] == 200
    # db.py's CONNECT_TIMEOUT_SECONDS is 5: the wait ends there, not at the platform's function timeout,
    # and the failure is not cached: the next request waits for a fresh attempt.
    assert 4 < answer["again"][1] < 8, answer
    assert answer["first"][1] < 15, answer


def test_the_engine_uses_the_serverless_connection_settings(render, venv_for, postgres_url):
    project = render(db_init_strategy="lazy")
    settings = in_project(project, venv_for("3.12"), postgres_url, """
        import json
        from sqlalchemy import text
        from index import app
        from acme_notes.db import get_engine
        with app.app_context():
            engine = get_engine()
            for _ in range(10):  # psycopg would prepare server-side after 5 runs
                app.test_client().get("/api/items")
            with engine.connect() as connection:
                raw = connection.connection.driver_connection
                print(json.dumps({
                    "prepare_threshold": raw.prepare_threshold,
                    "connect_timeout": raw.info.get_parameters().get("connect_timeout"),
                    "prepared": connection.scalar(text("SELECT count(*) FROM pg_prepared_statements")),
                    "pool": [engine.pool.size(), engine.pool._max_overflow, engine.pool._pre_ping],
                }))
    """)  # fmt: skip
    assert settings == {
        "prepare_threshold": None,
        "connect_timeout": "5",
        "prepared": 0,
        "pool": [2, 3, True],
    }


INNER_TEST = """
def test_needs_postgres(postgres_url):
    pass
"""


@pytest.mark.parametrize("required, outcome", [("", "1 skipped"), ("1", "1 error")])
def test_without_a_server_postgres_tests_skip_unless_required(tmp_path, required, outcome):
    (tmp_path / "test_inner.py").write_text(INNER_TEST)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "TEST_DATABASE_URL"))}
    env.update(PATH="/usr/bin:/bin", REQUIRE_POSTGRES=required, PYTHONPATH=str(REPO_ROOT / "tests"))
    result = run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-rse", "test_inner.py"],
        cwd=tmp_path, env=env, check=False,
    )  # fmt: skip
    assert outcome in result.stdout, result.stdout
    assert "initdb and postgres not found on PATH" in result.stdout


SERVER_OWNER = """
import sys, time
import pgserver
server = pgserver.LocalPostgres().start()
print(server.process.pid, server.directory, flush=True)
if sys.argv[1] == "killed":
    time.sleep(60)
"""


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
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "tests")}
    owner = subprocess.Popen(
        [sys.executable, "-c", SERVER_OWNER, ending], env=env, stdout=subprocess.PIPE, text=True
    )
    pid, directory = owner.stdout.readline().split()
    if ending == "killed":
        owner.kill()  # no atexit, no cleanup code: only the kernel's parent-death signal is left
    owner.wait(timeout=60)
    deadline = time.monotonic() + 10
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(pid)
    if ending == "exits":
        assert not os.path.exists(directory)
    shutil.rmtree(directory, ignore_errors=True)  # after a SIGKILL nobody else can

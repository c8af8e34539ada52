"""PostgreSQL as users run it on Vercel: behind a transaction-mode pooler (Neon's PgBouncer, Supabase's
Supavisor), on a compute that scales to zero and wakes up on the first connection, from one instance
serving many requests at once, and with the variables each Vercel integration sets.

The pooler is a throwaway PgBouncer in transaction mode with a server pool of 2 (or TEST_POOLER_URL);
the sleeping compute and the hung server are TCP stand-ins (template_tools.proxies); the function is
started by Vercel's own Python runtime (flask_vercel_doctor.vercel_runtime).
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import psycopg
import pytest

from flask_vercel_doctor.vercel_runtime import start_project
from template_tools import race
from template_tools.pgbouncer import with_address
from template_tools.postgres import ConnectionWatch, execute, libpq_url
from template_tools.projects import create_tables
from template_tools.proxies import NeverAnswering, WakingDatabase

MAX_DURATION_SECONDS = 30  # the template's vercel.json gives index.py this maxDuration
INSTANCE_POOL_LIMIT = 2 + 3  # engine.py: POOL_SIZE + POOL_MAX_OVERFLOW
UNREACHABLE = "The database is unreachable right now; try again shortly."


def query(database_url, sql):
    with psycopg.connect(libpq_url(database_url)) as connection:
        return connection.execute(sql).fetchall()


def start_function(project, venv, **env):
    """The project started by Vercel's Python runtime, as an instance with these variables."""
    return start_project(project, python=venv / "bin" / "python", env=env, read_only=False)


def timed(function, method, path, body=None):
    started = time.monotonic()
    response = function.request(method, path, body=body)
    return response, time.monotonic() - started


# 1. Through a transaction-mode pooler (each strategy's own suite: test_postgres.py)


POOLED_RACE = {"processes": 8, "trials": 2, "requests": 15}


@pytest.mark.slow
def test_races_and_a_mixed_load_through_the_pooler_never_fail(
    venv_for, postgres_server, postgres_pooler, tmp_path, record_property
):
    """Per strategy, 8 processes race their first schema step (DDL on the direct URL), then each sends
    15 requests that write and read through a pooler whose 2 server connections they all share.

    The lazy project on psycopg 3 passes too; the negative control, that project with psycopg's default
    prepare_threshold, fails there.
    """
    projects = race.render_projects(tmp_path)
    venv = venv_for("3.12")
    results = {
        name: race.race(name, projects[name], venv, postgres_server, pooler=postgres_pooler, **POOLED_RACE)
        for name in [*race.GENERATED, "lazy_psycopg", "prepared"]
    }
    for name in [*race.GENERATED, "lazy_psycopg"]:
        assert (results[name]["failed_processes"], results[name]["schema_problems"]) == (0, []), results[name]
        figures = {key: results[name][key] for key in ("processes", "requests", "seconds")}
        figures["pooler"] = (
            f"{results[name]['peak_pooler_clients']} on {results[name]['peak_pooler_servers']}"
        )
        record_property("pooled_race", f"{name}: {figures}")
    if results["lazy"]["peak_pooler_clients"] is not None:  # our PgBouncer: clients really shared servers
        assert results["lazy"]["peak_pooler_servers"] <= 2 < results["lazy"]["peak_pooler_clients"]
    prepared = results["prepared"]
    assert prepared["failed_processes"] > 0, prepared
    assert all("prepared statement" in error for error, _ in prepared["errors"]), prepared["errors"]


# 2. A compute that wakes up, and a server that never answers

# Neon: "a few hundred milliseconds", at times seconds; 12 s outlasts one connect attempt (10 s).
WAKE_SECONDS = [0.5, 4, 12]


@pytest.mark.slow
@pytest.mark.parametrize("wake_after", WAKE_SECONDS)
def test_the_first_request_waits_for_a_waking_database(
    render, venv_for, postgres_url, wake_after, record_property
):
    project = render(db_init_strategy="lazy")  # its first request also creates the tables: two connects
    with (
        WakingDatabase.in_front_of(postgres_url, wake_after=wake_after) as sleeping,
        start_function(project, venv_for("3.12"), DATABASE_URL=sleeping.url(postgres_url)) as function,
    ):
        first, seconds = timed(function, "POST", "/api/items", {"name": "Milk"})
        again, again_seconds = timed(function, "GET", "/api/items")
    assert (first.status, first.json()) == (201, {"id": 1, "name": "Milk"})
    assert wake_after <= seconds < MAX_DURATION_SECONDS
    assert (again.status, again_seconds < 2) == (200, True)  # awake now: no waiting
    record_property("wake_up", f"wakes after {wake_after} s: {first.status} in {seconds:.1f} s")


@pytest.mark.slow
def test_a_database_that_never_answers_is_a_503_well_inside_max_duration(
    render, venv_for, postgres_url, record_property
):
    project = render(db_init_strategy="lazy")
    with (
        NeverAnswering() as hung,
        start_function(project, venv_for("3.12"), DATABASE_URL=hung.url(postgres_url)) as function,
    ):
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(timed, function, "GET", "/api/items")
            time.sleep(1)
            health = function.get("/api/health")  # the instance serves other requests meanwhile
            response, seconds = waiting.result()
        assert function.alive()
    assert health.status == 200
    assert (response.status, response.json()["message"]) == (503, UNREACHABLE)
    # db.py: attempts of 10 s, retried, all within a 20 s deadline; the platform would stop it at 30 s.
    assert 15 < seconds < MAX_DURATION_SECONDS - 3
    record_property("wake_up", f"never answers: {response.status} in {seconds:.1f} s")


# 3. One instance, many concurrent requests: the connection budget

CONCURRENT_REQUESTS = 32


def concurrent_requests(function, count):
    """``count`` requests sent at once on connections opened beforehand (half add an item, half list
    them): the runtime serves each on a thread of its own."""
    connections = [function.connect() for _ in range(count)]
    barrier = threading.Barrier(count)

    def send(number):
        barrier.wait()
        if number % 2:
            return function.get("/api/items", connection=connections[number])
        return function.post("/api/items", body={"name": f"item {number}"}, connection=connections[number])

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(send, range(count)))


@pytest.mark.slow
@pytest.mark.parametrize("through", ["direct", "pooler"])
def test_one_instance_answers_32_concurrent_requests_within_its_pool(
    render, venv_for, pooled_database, through, record_property
):
    project = render(db_init_strategy="manual")
    venv = venv_for("3.12")
    create_tables(project, venv, pooled_database.direct)
    url = pooled_database.direct if through == "direct" else pooled_database.pooled
    with (
        start_function(project, venv, DATABASE_URL=url) as function,
        ConnectionWatch(pooled_database.direct) as server_connections,
    ):
        assert function.get("/api/items").status == 200  # a warm instance: SQLAlchemy and the driver loaded
        responses = concurrent_requests(function, CONCURRENT_REQUESTS)
    assert sorted({response.status for response in responses}) == [200, 201]
    assert query(pooled_database.direct, "SELECT count(*) FROM items") == [(CONCURRENT_REQUESTS // 2,)]
    if through == "direct":  # the server's connections are the instance's own
        assert 1 < server_connections.peak <= INSTANCE_POOL_LIMIT
    record_property(
        "connection_budget",
        f"{through}: {CONCURRENT_REQUESTS} concurrent requests, all answered,"
        f" at most {server_connections.peak} server connections",
    )


# 4. What each Vercel integration sets

SCHEMA_OWNER = "schema_owner"  # who the unpooled URL logs in as: the tables' owner shows where DDL ran


def integration_variables(integration, database):
    """The variables each integration sets, shaped like theirs, pointing at the test servers: requests
    through the pooler, the unpooled URL straight to the server as another user."""
    pooled = database.pooled.replace("postgresql://", "postgres://")
    server = urlsplit(database.direct).netloc.rpartition("@")[2]
    direct = with_address(database.direct, f"{SCHEMA_OWNER}:owner-password@{server}")
    if integration == "neon":
        return {
            "DATABASE_URL": pooled, "DATABASE_URL_UNPOOLED": direct,
            "POSTGRES_URL": pooled, "POSTGRES_URL_NON_POOLING": direct,
        }  # fmt: skip
    if integration == "supabase":
        return {
            "POSTGRES_URL": f"{pooled}?supa=base-pooler.x",
            "POSTGRES_PRISMA_URL": f"{pooled}?pgbouncer=true",
            "POSTGRES_URL_NON_POOLING": direct,
            "POSTGRES_HOST": "[::1]:1",  # the IPv6-only direct host: the app must never build a URL from it
        }
    return {"DATABASE_URL": database.direct.replace("postgresql://", "postgres://")}


@pytest.fixture
def schema_owner(pooled_database):
    """A login role that owns the test database (so it may create tables in its public schema)."""
    execute(
        pooled_database.direct,
        f"DO $$ BEGIN CREATE ROLE {SCHEMA_OWNER} LOGIN PASSWORD 'owner-password';"
        " EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    )
    database = pooled_database.direct.rsplit("/", 1)[1]
    execute(pooled_database.direct, f'ALTER DATABASE "{database}" OWNER TO {SCHEMA_OWNER}')
    return SCHEMA_OWNER


@pytest.mark.slow
@pytest.mark.parametrize("integration", ["neon", "supabase", "bare postgres://"])
def test_each_integrations_variables_lead_to_a_working_app(
    render, venv_for, pooled_database, schema_owner, integration
):
    project = render(db_init_strategy="lazy")  # it creates its tables inside a request
    env = integration_variables(integration, pooled_database)
    with start_function(project, venv_for("3.12"), VERCEL="1", **env) as function:
        created = function.post("/api/items", body={"name": "Milk"})
        listed = function.get("/api/items")
    assert (created.status, listed.status, listed.json()) == (201, 200, [{"id": 1, "name": "Milk"}])
    [(owner,)] = query(pooled_database.direct, "SELECT tableowner FROM pg_tables WHERE tablename = 'items'")
    user = query(pooled_database.direct, "SELECT current_user")[0][0]
    assert owner == (user if integration == "bare postgres://" else schema_owner)

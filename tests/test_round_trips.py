"""Warm database requests at the round-trip limit, on PostgreSQL, through Vercel's runtime.

A relay between the function and the server counts round trips (a query and its answer); latency
between a function and its database is paid per round trip, so these counts are the cost model.
"""

import contextlib
import time

import psycopg
import pytest

from flask_vercel_doctor.vercel_runtime import start_project
from template_tools import postgres
from template_tools.matrix import DRIVERS, STRATEGIES
from template_tools.projects import create_tables, report_of, run_in_project
from template_tools.wire import RoundTripRelay

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def counted_function(project, venv, database_url):
    """The project started as Vercel does, its database reached through a counting relay."""
    port = int(database_url.rsplit(":", 1)[1].split("/")[0])
    with RoundTripRelay(port) as relay:
        env = {"VERCEL": "1", "DATABASE_URL": relay.url(database_url)}
        with start_project(project, python=venv / "bin" / "python", env=env) as function:
            yield function, relay


def round_trips(relay, request):
    before = relay.count()
    response = request()
    return response, relay.count() - before


@pytest.mark.parametrize(
    "strategy, driver", [*((s, DRIVERS[0]) for s in STRATEGIES), ("lazy", DRIVERS[1])]
)  # the strategies differ in schema code only; the drivers in how they talk to the server
def test_a_warm_read_costs_one_round_trip_and_a_write_three(render, venv_for, postgres_url, strategy, driver):
    project, venv = render(db_init_strategy=strategy, database_driver=driver), venv_for("3.12")
    create_tables(project, venv, postgres_url)
    with counted_function(project, venv, postgres_url) as (function, relay):
        function.get("/api/items")  # warm: the engine, the pool and the connection exist
        function.post("/api/items", body={"name": "warm"})
        listed, read = round_trips(relay, lambda: function.get("/api/items"))
        created, write = round_trips(relay, lambda: function.post("/api/items", body={"name": "Milk"}))
        again, read_again = round_trips(relay, lambda: function.get("/api/items"))
    assert (listed.status, created.status, again.status) == (200, 201, 200)
    assert created.json()["name"] == "Milk" and [i["name"] for i in again.json()] == ["warm", "Milk"]
    assert (read, write, read_again) == (1, 3, 1)  # SELECT; BEGIN, INSERT ... RETURNING, COMMIT; SELECT


def terminate_connections(database_url):
    """pg_terminate_backend for every connection to the database but ours; returns how many went."""
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.libpq_url(database_url), autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()[0]
        while admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
        ).fetchone()[0]:
            time.sleep(0.01)  # gone for the server; the function's connections sit idle, closed
    return killed


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("route", ["direct", "through PgBouncer"])
def test_connections_closed_while_the_instance_is_idle_never_surface(
    render, venv_for, request, route, driver
):
    """Every server connection goes while the instance waits between requests, three times over."""
    project, venv = render(db_init_strategy="lazy", database_driver=driver), venv_for("3.12")
    if route == "direct":
        server_side = request.getfixturevalue("postgres_url")
        env = {"VERCEL": "1", "DATABASE_URL": server_side}
    else:
        database = request.getfixturevalue("pooled_database")
        server_side = database.direct
        env = {"VERCEL": "1", "DATABASE_URL": database.pooled, "DATABASE_URL_UNPOOLED": database.direct}
    with start_project(project, python=venv / "bin" / "python", env=env) as function:
        for attempt in range(3):
            assert function.get("/api/items").status == 200
            assert function.post("/api/items", body={"name": f"before {attempt}"}).status == 201
            assert terminate_connections(server_side) >= 1
            assert function.get("/api/items").status == 200, attempt
            assert function.post("/api/items", body={"name": f"after {attempt}"}).status == 201, attempt
        assert len(function.get("/api/items").json()) == 6


def test_a_request_that_fails_on_its_second_write_keeps_nothing_of_the_first(render, venv_for, postgres_url):
    project, venv = render(db_init_strategy="manual"), venv_for("3.12")
    create_tables(project, venv, postgres_url)
    report = report_of(run_in_project(project, venv, "two_writes", env={"DATABASE_URL": postgres_url}))
    assert report == {"outcome": "refused", "items": []}

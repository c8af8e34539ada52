"""Race N processes through a project's first schema step (run in the project, by its Python).

    python race_launcher.py CONTENDER PROCESSES URL [URL ...]

It loads everything first, then forks the racers for each URL (one database per trial); each
builds its app and waits at a barrier, so only the first database work races. Prints one JSON
line: {"trials": [[error or null per process], ...], "head": the Alembic head or null}.
"""

import importlib
import json
import multiprocessing
import os
import sys
import traceback

import flask  # noqa: F401  (loaded before the fork, as a warm instance has it)
import sqlalchemy
from index import app as loaded_app
from sqlalchemy.orm import Session

contender, processes, urls = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
package = loaded_app.import_name
app_module = importlib.import_module(package)
models = importlib.import_module(f"{package}.models")
config = importlib.import_module(f"{package}.config")
db = importlib.import_module(f"{package}.db")
schema = importlib.import_module(f"{package}.schema")
MIGRATIONS = "migrations" in contender
if MIGRATIONS:
    import alembic  # noqa: F401
    import flask_migrate  # noqa: F401
    from alembic.script import ScriptDirectory


def naive_first_request(n):
    """The seed's Option 2: a flag per instance, then create_all with no lock."""
    engine = sqlalchemy.create_engine(config.normalize_database_url(os.environ["DATABASE_URL"]))
    engine.connect().close()  # a warm pooled connection, so only the DDL races
    yield
    models.Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(models.Item(name=f"racer {n}"))
        session.commit()


def first_work(n):
    """What a cold start or a build of this strategy does first, then one write."""
    app = app_module.create_app()
    app.config["PROPAGATE_EXCEPTIONS"] = True  # a 500 raises here, so the report shows the error
    client = app.test_client()
    if not MIGRATIONS:  # the build step's engine is one-shot: nothing to warm
        with app.app_context():
            db.build_engine(db.database_url()).connect().close()
    yield
    if contender == "init_endpoint":
        response = client.post("/_init", headers={"Authorization": "Bearer " + os.environ["INIT_TOKEN"]})
        assert response.status_code == 200, response.get_data(as_text=True)
    elif contender == "manual":
        result = app.test_cli_runner().invoke(args=["init-db"])
        assert result.exit_code == 0, result.output + repr(result.exception)
    elif MIGRATIONS:
        assert schema.main() == 0
    response = client.post("/api/items", json={"name": f"racer {n}"})
    assert response.status_code == 201, response.get_data(as_text=True)


def racer(n, url, barrier, results):
    os.environ["DATABASE_URL"] = url
    try:
        steps = naive_first_request(n) if contender == "naive" else first_work(n)
        next(steps)
        barrier.wait(timeout=60)
        next(steps, None)
        results.put((n, None))
    except BaseException as error:
        results.put((n, traceback.format_exception_only(error)[-1].strip()))


def trial(context, url):
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
    return [errors.get(n, "no answer within 120 s") for n in range(processes)]


context = multiprocessing.get_context("fork")
trials = [trial(context, url) for url in urls]
head = ScriptDirectory(str(schema.MIGRATIONS_DIRECTORY)).get_current_head() if MIGRATIONS else None
print(json.dumps({"trials": trials, "head": head}))

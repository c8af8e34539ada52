"""Race N processes through a project's first schema step (run in the project, by its Python).

    python race_launcher.py CONTENDER PROCESSES REQUESTS TRIAL [TRIAL ...]

Each TRIAL is a JSON object of environment variables for one trial's racers (its own database:
DATABASE_URL, and DATABASE_URL_UNPOOLED behind a pooler). It loads everything first, then forks
the racers of each trial; each builds its app and waits at a barrier, so only the first database
work races. Each racer then adds one row and, with REQUESTS > 0, goes on with a mixed load of
REQUESTS more requests that write and read (``mixed_load``). Prints one JSON line:
{"trials": [[[error or null, rows written] per process], ...], "head": the Alembic head or null}.
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

contender, processes, requests = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
trial_environments = [json.loads(argument) for argument in sys.argv[4:]]
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


def first_work(n, app):
    """What a cold start or a build of this strategy does first, then one write."""
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


def mixed_load(n, app, written):
    """REQUESTS more requests from this racer, in turn: add an item, list them, and list them six times
    in one request (the shape of an N+1 query: psycopg prepares a statement on its sixth run)."""
    client = app.test_client()
    for number in range(requests):
        if number % 3 == 0:
            response = client.post("/api/items", json={"name": f"load {n}.{number}"})
            assert response.status_code == 201, response.get_data(as_text=True)
            written[0] += 1
        elif number % 3 == 1:
            response = client.get("/api/items")
            assert response.status_code == 200, response.get_data(as_text=True)
        else:
            with app.app_context():
                session = db.get_session()
                for _ in range(6):
                    models.Item.all(session)


def racer(n, environment, barrier, results):
    os.environ.update(environment)
    written = [0]
    try:
        app = app_module.create_app()
        app.config["PROPAGATE_EXCEPTIONS"] = True  # a 500 raises here, so the report shows the error
        steps = naive_first_request(n) if contender == "naive" else first_work(n, app)
        next(steps)
        barrier.wait(timeout=60)
        next(steps, None)
        written[0] += 1
        mixed_load(n, app, written)
        results.put((n, None, written[0]))
    except BaseException as error:
        results.put((n, traceback.format_exception_only(error)[-1].strip(), written[0]))


def trial(context, environment):
    barrier, results = context.Barrier(processes), context.Queue()
    arguments = [(n, environment, barrier, results) for n in range(processes)]
    racers = [context.Process(target=racer, args=args) for args in arguments]
    for process in racers:
        process.start()
    outcomes = {}
    for _ in racers:
        try:
            n, error, written = results.get(timeout=120)
        except Exception:
            break
        outcomes[n] = [error, written]
    for process in racers:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
    return [outcomes.get(n, ["no answer within 120 s", 0]) for n in range(processes)]


context = multiprocessing.get_context("fork")
trials = [trial(context, environment) for environment in trial_environments]
head = ScriptDirectory(str(schema.MIGRATIONS_DIRECTORY)).get_current_head() if MIGRATIONS else None
print(json.dumps({"trials": trials, "head": head}))

"""The database: one engine per app, built on first use; one session per request.

SQLAlchemy and the driver are imported inside functions, so that a cold start that
serves no database request never pays for them.
"""

import select
import threading
from contextlib import contextmanager
from pathlib import Path

from flask import current_app, g
from werkzeug.exceptions import ServiceUnavailable

# An outage must answer in seconds, long before the platform's function timeout.
CONNECT_TIMEOUT_SECONDS = 5
# Any constant works, as long as every instance of the app uses the same one.
SCHEMA_LOCK_ID = 7_042_001
ENGINE_KEY = f"{__name__}.engine"
FIRST_USE_KEY = f"{__name__}.first_use"

_engine_lock = threading.Lock()
_schema_lock = threading.Lock()


class DatabaseUnavailable(ServiceUnavailable):
    """Answered as 503 JSON; the next request tries again."""

    description = "The database is unreachable right now; try again shortly."


def init_app(app):
    app.teardown_appcontext(close_session)


def on_first_use(app, prepare):
    """Run ``prepare(engine)`` once before the app's first session; a failure is retried next time."""
    app.extensions.setdefault(FIRST_USE_KEY, []).append(prepare)


def database_url(for_schema_changes=False):
    """The URL to connect to, or a 503 that says what to set.

    Schema changes use SCHEMA_DATABASE_URL (the provider's direct server) when there is one.
    """
    config = current_app.config
    url = (for_schema_changes and config["SCHEMA_DATABASE_URL"]) or config["DATABASE_URL"]
    if url is None:
        raise DatabaseUnavailable(
            "DATABASE_URL is not set. Add it to the Vercel project's environment variables"
            " (a Postgres integration sets POSTGRES_URL, which works too)."
        )
    if url.startswith("sqlite") and config["ON_VERCEL"] and not config["ALLOW_SQLITE_ON_VERCEL"]:
        raise DatabaseUnavailable(
            "DATABASE_URL points at SQLite, but Vercel's disk is read-only and /tmp is lost with"
            " each instance. Use PostgreSQL, or set ALLOW_SQLITE_ON_VERCEL=1 to accept that."
        )
    return url


def build_engine(url, *, pooled=True):
    """The one place engines are made; ``pooled=False`` for one-shot work such as schema changes."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    options = {} if pooled else {"poolclass": NullPool}
    if url.startswith("postgresql"):
        if pooled:
            # Instances are many and short-lived: keep few connections, none older than 5 minutes.
            options.update(pool_size=2, max_overflow=3, pool_recycle=300)
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        if url.startswith("postgresql+psycopg:"):
            # psycopg 3 prepares statements server-side, which breaks behind transaction poolers.
            options["connect_args"]["prepare_threshold"] = None
    elif url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **options)
    if pooled and engine.dialect.name == "postgresql":
        one_round_trip_per_read(engine)
    return engine


def one_round_trip_per_read(engine):
    """Reads cost one round trip each: no BEGIN/ROLLBACK around them and no ping per checkout.

    Connections idle in autocommit; a request's first write opens a transaction, so all its writes
    commit or roll back together (``transaction_for_writes``). A connection the server or a pooler
    closed while it sat idle has its goodbye (or EOF) waiting on the socket: it is replaced before
    the request uses it, with no round trip.
    """
    from sqlalchemy import event
    from sqlalchemy.exc import DisconnectionError
    from sqlalchemy.orm import Session

    @event.listens_for(engine, "connect")
    def start_in_autocommit(dbapi_connection, record):
        dbapi_connection.autocommit = True

    @event.listens_for(engine, "checkout")
    def replace_if_closed_while_idle(dbapi_connection, record, proxy):
        if select.select([dbapi_connection.fileno()], [], [], 0)[0]:  # the pool then takes another
            raise DisconnectionError("the server closed this connection while it was idle")

    @event.listens_for(engine, "checkin")
    def back_to_autocommit(dbapi_connection, record):
        if dbapi_connection is not None and not dbapi_connection.autocommit:
            dbapi_connection.autocommit = True  # the pool's rollback on return ended any transaction

    if not event.contains(Session, "before_flush", transaction_for_writes):
        event.listen(Session, "before_flush", transaction_for_writes)
        event.listen(Session, "do_orm_execute", transaction_for_statements)


def transaction_for_writes(session, *flush_arguments):
    """Leave autocommit before the first write of a session, so its writes are all or nothing."""
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.connection.driver_connection.autocommit:
        connection.connection.driver_connection.autocommit = False


def transaction_for_statements(execution):
    """Statements that are not plain reads (DML, textual SQL) run in the transaction too."""
    if not execution.is_select:
        transaction_for_writes(execution.session)


def get_engine():
    """The app's engine, built on first use (it connects lazily, too)."""
    app = current_app._get_current_object()
    engine = app.extensions.get(ENGINE_KEY)
    if engine is None:
        with _engine_lock:
            engine = app.extensions.get(ENGINE_KEY)
            if engine is None:
                engine = build_engine(database_url())
                try:
                    for prepare in app.extensions.get(FIRST_USE_KEY, ()):
                        prepare(engine)
                except BaseException:
                    engine.dispose()
                    raise
                app.extensions[ENGINE_KEY] = engine
    return engine


def get_session():
    """The request's session, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        from sqlalchemy.orm import Session

        # expire_on_commit=False: what a request just wrote is answered as written, not read back.
        session = Session(get_engine(), expire_on_commit=False)
        session.connection()  # connect now, so an outage is a 503 here, not a 500 later
        g.db_session = session
    return g.db_session


def close_session(exception=None):
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def schema_change():
    """A transaction for DDL that no other thread or instance runs at the same time.

    On PostgreSQL a transaction-scoped advisory lock serializes the instances: COMMIT releases
    it, so it also works through transaction-mode poolers. SQLite serializes writers itself.
    """
    engine = build_engine(database_url(for_schema_changes=True), pooled=False)
    try:
        with _schema_lock, engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                from sqlalchemy import text

                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": SCHEMA_LOCK_ID})
            yield connection
    finally:
        engine.dispose()

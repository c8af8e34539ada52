"""The database: one engine per app, built on first use; one session per request.

SQLAlchemy and the driver are imported inside functions, so that a cold start that
serves no database request never pays for them.
"""

import threading
import time
from contextlib import contextmanager
from pathlib import Path

from flask import current_app, g
from werkzeug.exceptions import Conflict, ServiceUnavailable

# Connecting to a serverless database may first wake it up (Neon: usually well under a second, at
# times seconds). Each attempt waits up to CONNECT_TIMEOUT_SECONDS (Neon's own example uses 10), a
# failed attempt is retried after a pause that doubles, and all of it ends by CONNECT_DEADLINE_SECONDS,
# so a database that never answers is a 503 well inside vercel.json's maxDuration (30 s).
CONNECT_TIMEOUT_SECONDS = 10
CONNECT_ATTEMPTS = 3
CONNECT_DEADLINE_SECONDS = 20
FIRST_RETRY_PAUSE_SECONDS = 0.5
# Per instance: POOL_SIZE connections kept, up to POOL_MAX_OVERFLOW more while busy (README: the
# connection budget). A request waits at most POOL_TIMEOUT_SECONDS for one of them, then gets a 503.
POOL_SIZE = 2
POOL_MAX_OVERFLOW = 3
POOL_TIMEOUT_SECONDS = 5
# Any constant works, as long as every instance of the app uses the same one.
SCHEMA_LOCK_ID = 7_042_001
ENGINE_KEY = f"{__name__}.engine"
FIRST_USE_KEY = f"{__name__}.first_use"

_engine_lock = threading.Lock()
_schema_lock = threading.Lock()


class DatabaseUnavailable(ServiceUnavailable):
    """Answered as 503 JSON; the next request tries again."""

    description = "The database is unreachable right now; try again shortly."


class DatabaseBusy(ServiceUnavailable):
    description = "Every database connection of this instance is in use; try again shortly."


class SchemaChangesRefused(Conflict):
    """A preview that may share production's database changes no schema: answered as 409 JSON."""

    description = (
        "Previews may share production's database, so this branch's schema changes would reach"
        " production before review. If previews have a database of their own (Neon's branch per"
        " preview), set PREVIEWS_HAVE_OWN_DATABASE=1 for the Preview environment."
    )


def init_app(app):
    app.teardown_appcontext(close_session)


def on_first_use(app, prepare):
    """Run ``prepare()`` once before the app's first session; a failure is retried next time."""
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


def may_change_schema():
    """False in a Vercel preview not known to have its own database (needs an app context)."""
    config = current_app.config
    return config["VERCEL_ENV"] != "preview" or config["PREVIEWS_HAVE_OWN_DATABASE"]


def build_engine(url, *, pooled=True):
    """The one place engines are made; ``pooled=False`` for one-shot work such as schema changes."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    options = {"pool_pre_ping": True} if pooled else {"poolclass": NullPool}
    if url.startswith("postgresql"):
        if pooled:
            # Instances are many and short-lived: keep few connections and drop stale ones.
            options.update(
                pool_size=POOL_SIZE,
                max_overflow=POOL_MAX_OVERFLOW,
                pool_timeout=POOL_TIMEOUT_SECONDS,
                pool_recycle=300,
            )
        # prepare_threshold=None: server-side prepared statements break behind transaction poolers.
        options["connect_args"] = {"prepare_threshold": None}
    elif url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **options)
    if url.startswith("postgresql"):
        event.listen(engine, "do_connect", connect_with_retries)
    return engine


def connect_with_retries(dialect, connection_record, cargs, cparams):
    """Open a connection, retrying failed attempts (SQLAlchemy's ``do_connect`` hook).

    Only connecting is retried: nothing has been sent yet, so nothing can run twice.
    """
    deadline = time.monotonic() + CONNECT_DEADLINE_SECONDS
    pause = FIRST_RETRY_PAUSE_SECONDS
    for attempt in range(1, CONNECT_ATTEMPTS + 1):
        timeout = min(CONNECT_TIMEOUT_SECONDS, int(deadline - time.monotonic()))
        try:
            return dialect.connect(*cargs, **{**cparams, "connect_timeout": timeout})
        except dialect.loaded_dbapi.OperationalError:
            # psycopg waits at least 2 s per attempt: retry only if one more fits before the deadline.
            if attempt == CONNECT_ATTEMPTS or deadline - time.monotonic() - pause < 2:
                raise
            time.sleep(pause)
            pause *= 2


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
                        prepare()
                except BaseException:
                    engine.dispose()
                    raise
                app.extensions[ENGINE_KEY] = engine
    return engine


def get_session():
    """The request's session, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        from sqlalchemy.exc import TimeoutError as PoolTimeout
        from sqlalchemy.orm import Session

        session = Session(get_engine())
        try:
            session.connection()  # connect now, so an outage is a 503 here, not a 500 later
        except PoolTimeout:
            raise DatabaseBusy() from None
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
    A preview that may share production's database is refused (``may_change_schema``).
    """
    if not may_change_schema():
        raise SchemaChangesRefused()
    engine = build_engine(database_url(for_schema_changes=True), pooled=False)
    try:
        with _schema_lock, engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                from sqlalchemy import text

                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": SCHEMA_LOCK_ID})
            yield connection
    finally:
        engine.dispose()

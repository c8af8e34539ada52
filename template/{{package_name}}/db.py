"""The database: one engine per app, built on first use; one session per request.

SQLAlchemy and the driver are imported inside functions (engine.py holds how connections
behave), so that a cold start that serves no database request never pays for them.
"""

import threading
from contextlib import contextmanager

from flask import current_app, g
from werkzeug.exceptions import Conflict, ServiceUnavailable

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


def may_change_schema():
    """False in a Vercel preview not known to have its own database (needs an app context)."""
    config = current_app.config
    return config["VERCEL_ENV"] != "preview" or config["PREVIEWS_HAVE_OWN_DATABASE"]


def get_engine():
    """The app's engine, built on first use (it connects lazily, too)."""
    app = current_app._get_current_object()
    engine = app.extensions.get(ENGINE_KEY)
    if engine is None:
        with _engine_lock:
            engine = app.extensions.get(ENGINE_KEY)
            if engine is None:
                from .engine import build_engine

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
        from sqlalchemy.exc import TimeoutError as PoolTimeout
        from sqlalchemy.orm import Session

        # expire_on_commit=False: what a request just wrote is answered as written, not read back.
        session = Session(get_engine(), expire_on_commit=False)
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
    from sqlalchemy import text

    from .engine import build_engine

    engine = build_engine(database_url(for_schema_changes=True), pooled=False)
    try:
        with _schema_lock, engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": SCHEMA_LOCK_ID})
            yield connection
    finally:
        engine.dispose()

"""How the app talks to PostgreSQL from many short-lived instances: the one place engines are made.

Imported on the first database request, never at cold start (it loads SQLAlchemy).
- Connecting may first wake a serverless database (Neon: usually well under a second, at times
  seconds): each attempt waits up to CONNECT_TIMEOUT_SECONDS (Neon's own example uses 10), a failed
  one is retried after a pause that doubles, and all of it ends by CONNECT_DEADLINE_SECONDS, so a
  database that never answers is a 503 well inside vercel.json's maxDuration (30 s).
- Per instance: POOL_SIZE connections kept, up to POOL_MAX_OVERFLOW more while busy (README: the
  connection budget); a request waits at most POOL_TIMEOUT_SECONDS for one, then gets a 503.
- A read costs one round trip: connections idle in autocommit, so a lone SELECT needs no BEGIN or
  ROLLBACK, and no ping checks them; a request's first write opens a transaction, so all its
  writes commit or roll back together. A connection the server or a pooler closed while it sat
  idle has its goodbye (or EOF) waiting on the socket: the pool replaces it before the request
  uses it, at no round trip.
"""

import select
import time
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

CONNECT_TIMEOUT_SECONDS = 10
CONNECT_ATTEMPTS = 3
CONNECT_DEADLINE_SECONDS = 20
FIRST_RETRY_PAUSE_SECONDS = 0.5
POOL_SIZE = 2
POOL_MAX_OVERFLOW = 3
POOL_TIMEOUT_SECONDS = 5
POOL_RECYCLE_SECONDS = 300  # instances live long; no connection does


def build_engine(url, *, pooled=True):
    """An engine for ``url``; ``pooled=False`` for one-shot work such as schema changes."""
    options = {} if pooled else {"poolclass": NullPool}
    if url.startswith("postgresql"):
        if pooled:
            options.update(
                pool_size=POOL_SIZE,
                max_overflow=POOL_MAX_OVERFLOW,
                pool_timeout=POOL_TIMEOUT_SECONDS,
                pool_recycle=POOL_RECYCLE_SECONDS,
            )
        if url.startswith("postgresql+psycopg:"):
            # psycopg 3 prepares statements server-side, which breaks behind transaction poolers.
            options["connect_args"] = {"prepare_threshold": None}
    elif url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **options)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "do_connect", connect_with_retries)
        if pooled:
            one_round_trip_per_read(engine)
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
            # libpq waits at least 2 s per attempt: retry only if one more fits before the deadline.
            if attempt == CONNECT_ATTEMPTS or deadline - time.monotonic() - pause < 2:
                raise
            time.sleep(pause)
            pause *= 2


def one_round_trip_per_read(engine):
    """Autocommit between writes, and stale connections replaced at checkout (see the docstring above)."""

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


@event.listens_for(Session, "before_flush")
def transaction_for_writes(session, *flush_arguments):
    """Leave autocommit before a session's first write, so its writes are all or nothing."""
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.connection.driver_connection.autocommit:
        connection.connection.driver_connection.autocommit = False


@event.listens_for(Session, "do_orm_execute")
def transaction_for_statements(execution):
    """Statements that are not plain reads (DML, textual SQL) run in that transaction too."""
    if not execution.is_select:
        transaction_for_writes(execution.session)

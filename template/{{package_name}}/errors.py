"""Every error as JSON, and database failures as a 503 that says what to do next."""

import sys

from flask import current_app, json
from werkzeug.exceptions import HTTPException

from . import schema

UNREACHABLE = "The database is unreachable right now; try again shortly."
# What the database lacks -> the 503's first sentence; the strategy module adds the way out.
BEHIND_THE_CODE = {
    "table": "The database does not have this code's tables yet.",
    "column": "The database is older than this code: a column it uses is missing.",
}


def init_app(app):
    app.register_error_handler(HTTPException, http_error_as_json)
    app.register_error_handler(Exception, database_error_as_503)


def http_error_as_json(error):
    """Keeps the status and headers (Allow, WWW-Authenticate); the body becomes JSON."""
    response = error.get_response()
    response.set_data(json.dumps({"error": error.name, "message": error.description}))
    response.content_type = "application/json"
    return response


def database_error_as_503(error):
    """A schema behind the code or an unreachable database is a 503 with the way out; anything else a 500."""
    exc = sys.modules.get("sqlalchemy.exc")  # not loaded yet: cannot be a database error
    if exc is None or not isinstance(error, exc.DBAPIError):
        raise error
    missing = missing_from_schema(error)
    if missing:
        message = f"{BEHIND_THE_CODE[missing]} {schema.missing_schema_hint()}"
    elif isinstance(error, exc.OperationalError | exc.InterfaceError):
        message = UNREACHABLE
    else:
        raise error
    current_app.logger.warning("database error answered with 503: %s", error)
    return {"error": "Service Unavailable", "message": message}, 503


def missing_from_schema(error):
    """What the query needs and the database lacks: "table", "column" or None (PostgreSQL, SQLite)."""
    # psycopg 3 names the SQLSTATE code sqlstate, psycopg2 pgcode; SQLite has none, only the text.
    sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    text = str(error.orig)
    if sqlstate == "42P01" or "no such table" in text:
        return "table"
    if sqlstate == "42703" or "no such column" in text:
        return "column"
    return None

"""Every error as JSON, and database failures as a 503 that says what to do next."""

import sys

from flask import current_app, json
from werkzeug.exceptions import HTTPException

from . import schema

UNREACHABLE = "The database is unreachable right now; try again shortly."


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
    """A missing table or an unreachable database is a 503 with the way out; anything else a 500."""
    exc = sys.modules.get("sqlalchemy.exc")  # not loaded yet: cannot be a database error
    if exc is None or not isinstance(error, exc.DBAPIError):
        raise error
    if is_missing_table(error):
        message = f"The database is missing tables this request needs. {schema.MISSING_TABLES_HINT}"
    elif isinstance(error, exc.OperationalError | exc.InterfaceError):
        message = UNREACHABLE
    else:
        raise error
    current_app.logger.warning("database error answered with 503: %s", error)
    return {"error": "Service Unavailable", "message": message}, 503


def is_missing_table(error):
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate == "42P01" or "no such table" in str(error.orig)  # PostgreSQL, SQLite

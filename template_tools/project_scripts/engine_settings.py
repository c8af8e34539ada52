"""What a project's engine really uses on PostgreSQL, after ten requests (run by its interpreter).

Prints one JSON line: the driver, its prepare threshold (psycopg2 has none: it never prepares),
connect timeout and autocommit between requests, the server's count of prepared statements, and
the pool's size, overflow and pre-ping.
"""

import importlib
import json

from index import app
from sqlalchemy import text

db = importlib.import_module(f"{app.import_name}.db")
with app.app_context():
    engine = db.get_engine()
    for _ in range(10):  # psycopg would prepare server-side after 5 runs
        app.test_client().get("/api/items")
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        info = raw.info  # psycopg 3 and psycopg2 name the connection's parameters differently
        parameters = info.get_parameters() if hasattr(info, "get_parameters") else info.dsn_parameters
        print(json.dumps({
            "driver": type(raw).__module__.partition(".")[0],
            "prepare_threshold": getattr(raw, "prepare_threshold", None),
            "connect_timeout": parameters.get("connect_timeout"),
            "autocommit": raw.autocommit,
            "prepared": connection.scalar(text("SELECT count(*) FROM pg_prepared_statements")),
            "pool": [engine.pool.size(), engine.pool._max_overflow, engine.pool._pre_ping],
        }))  # fmt: skip

"""What a project's engine really uses on PostgreSQL, after ten requests (run by its interpreter).

Prints one JSON line: the driver's prepare threshold, connect timeout and autocommit between
requests, the server's count of prepared statements, and the pool's size, overflow and pre-ping.
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
        print(json.dumps({
            "prepare_threshold": raw.prepare_threshold,
            "connect_timeout": raw.info.get_parameters().get("connect_timeout"),
            "autocommit": raw.autocommit,
            "prepared": connection.scalar(text("SELECT count(*) FROM pg_prepared_statements")),
            "pool": [engine.pool.size(), engine.pool._max_overflow, engine.pool._pre_ping],
        }))  # fmt: skip

"""Send requests to a project's app inside one process (run by the project's interpreter).

    python client.py BATCH [BATCH ...]

Each BATCH is a JSON list of requests, ``[METHOD, PATH]`` or ``[METHOD, PATH, JSON_BODY]``. The app
is imported once; for each batch it prints one JSON line, a list of ``{"status", "json", "seconds"}``,
and before every batch but the first it waits for a line on stdin (say, "the database is back").
"""

import json
import sys
import time

from index import app

client = app.test_client()


def send(method, path, body=None):
    started = time.perf_counter()
    response = client.open(path, method=method, json=body)
    seconds = time.perf_counter() - started
    return {"status": response.status_code, "json": response.get_json(silent=True), "seconds": seconds}


for number, batch in enumerate(sys.argv[1:]):
    if number:
        sys.stdin.readline()
    print(json.dumps([send(*request) for request in json.loads(batch)]), flush=True)

"""Which top-level modules serving requests loaded (run by a project's interpreter, in the project).

    python modules_after_requests.py PATH [PATH ...]

GETs each path from a freshly imported app; prints one JSON line: {"statuses": [...], "loaded": [...]}.
"""

import json
import sys

from index import app

client = app.test_client()
statuses = [client.get(path).status_code for path in sys.argv[1:]]
loaded = sorted({name.partition(".")[0] for name in sys.modules})
print(json.dumps({"statuses": statuses, "loaded": loaded}))

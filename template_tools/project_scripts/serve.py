"""Serve a project's ``index.app`` on loopback with the stdlib's single-threaded WSGI server.

Run by the benchmark with the project's venv, in the project: ``python serve.py PORT``. Every
candidate gets this same server, so the requests/second ratios compare the apps, not servers.
"""

import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

from index import app


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # an access line per request would time the terminal
        pass


with make_server("127.0.0.1", int(sys.argv[1]), app, handler_class=QuietHandler) as server:
    print("ready", flush=True)
    server.serve_forever()

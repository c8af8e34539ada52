"""Serve one project's ``index.app`` on loopback with the stdlib's single-threaded WSGI server.

Run by benchmark.py with the project's venv: ``python serve.py PROJECT_DIR PORT``. Every
candidate gets this same server, so the requests/second ratios compare the apps, not servers.
"""

import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # an access line per request would time the terminal
        pass


def main():
    project_dir, port = sys.argv[1], int(sys.argv[2])
    sys.path.insert(0, project_dir)
    from index import app

    with make_server("127.0.0.1", port, app, handler_class=QuietHandler) as server:
        print("ready", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()

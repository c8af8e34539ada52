"""The static pass: each warning sign at its line, in the modules Vercel imports; code that only runs when
called is left alone, and so is every write under /tmp."""

import pytest
from helpers import write_project

from flask_vercel_doctor import diagnose

INDEX = "from acme import service\n\napp = service\n"

# (setup lines, the line that must be flagged, its severity, the start of the finding's text)
IMPORT_TIME_CALLS = {
    "create_all in an app context": (
        "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\napp = Flask(__name__)\n"
        "db = SQLAlchemy(app)\nwith app.app_context():",
        "    db.create_all()",
        "warning",
        "db.create_all() runs at import",
    ),
    "engine connect": (
        "from sqlalchemy import create_engine\nengine = create_engine('sqlite://')",
        "connection = engine.connect()",
        "warning",
        "engine.connect() runs at import",
    ),
    "chained engine connect": (
        "import sqlalchemy as sa",
        "sa.create_engine('sqlite://').connect()",
        "warning",
        "sa.create_engine('sqlite://').connect() runs",
    ),
    "session query": (
        "from .extensions import db",
        "USERS = db.session.query(User).all()",
        "warning",
        "db.session",
    ),
    "legacy query property": (
        "from .models import User",
        "ADMIN = User.query.filter_by(admin=True).first()",
        "warning",
        "User.query",
    ),
    "sqlite3 connect": (
        "import sqlite3",
        "sqlite3.connect('app.db')",
        "warning",
        "sqlite3.connect('app.db')",
    ),
    "psycopg2 connect, aliased": (
        "from psycopg2 import connect",
        "connect('')",
        "warning",
        "connect('') runs",
    ),
    "requests": (
        "import requests",
        "DATA = requests.get('https://api.example.com')",
        "warning",
        "requests.get(",
    ),
    "httpx": ("import httpx", "httpx.post('https://api.example.com')", "warning", "httpx.post("),
    "urlopen": (
        "from urllib.request import urlopen",
        "urlopen('https://example.com')",
        "warning",
        "urlopen(",
    ),
    "makedirs": ("import os", "os.makedirs('data', exist_ok=True)", "error", "os.makedirs('data'"),
    "makedirs in a try": (
        "import os\ntry:",
        "    os.mkdir('cache')\nexcept OSError:\n    pass",
        "error",
        "os.mkdir('cache') runs at import",
    ),
    "Path.mkdir": ("from pathlib import Path", "Path('uploads').mkdir()", "error", "Path('uploads').mkdir()"),
    "Path.write_text": (
        "from pathlib import Path",
        "Path('boot.txt').write_text('up')",
        "error",
        "Path('boot",
    ),
    "open for writing": ("", "LOG = open('app.log', 'w')", "error", "open('app.log', 'w') runs at import"),
    "open to append": ("", "LOG = open('app.log', mode='a')", "error", "open('app.log', mode='a')"),
    "Path.open for writing": (
        "from pathlib import Path",
        "Path('x.txt').open('w')",
        "error",
        "Path('x.txt')",
    ),
    "log file handler": (
        "import logging",
        "HANDLER = logging.FileHandler('app.log')",
        "error",
        "logging.File",
    ),
    "subprocess, aliased": (
        "import subprocess as sp",
        "sp.run(['git', 'rev-parse', 'HEAD'])",
        "warning",
        "sp.run(",
    ),
    "os.system": ("import os", "os.system('npm run build')", "warning", "os.system('npm run build')"),
    "thread": ("import threading", "threading.Thread(target=print).start()", "warning", "threading.Thread("),
    "environ subscript": (
        "import os",
        "SECRET = os.environ['SECRET_KEY']",
        "warning",
        "os.environ['SECRET_KEY']",
    ),
    "environ from os": (
        "from os import environ",
        "URL = environ['DATABASE_URL']",
        "warning",
        "os.environ['DATA",
    ),
    "environ in a class body": (
        "import os\n\nclass Config:",
        "    SECRET_KEY = os.environ['SECRET_KEY']",
        "warning",
        "os.environ['SECRET_KEY'] is read at import",
    ),
    "app.run at import": (
        "from flask import Flask\napp = Flask(__name__)",
        "app.run()",
        "error",
        "app.run() runs",
    ),
    "a factory's app run": (
        "from . import create_app\nweb = create_app()",
        "web.run(debug=True)",
        "error",
        "web.run(",
    ),
    "run_simple": (
        "from werkzeug.serving import run_simple",
        "run_simple('0.0.0.0', 80, None)",
        "error",
        "run_simple",
    ),
}


@pytest.mark.parametrize(
    "setup, bad_line, severity, expected", IMPORT_TIME_CALLS.values(), ids=IMPORT_TIME_CALLS
)
def test_each_import_time_side_effect_is_reported_at_its_line(tmp_path, setup, bad_line, severity, expected):
    source = f"{setup}\n{bad_line}\n" if setup else f"{bad_line}\n"
    line = source.splitlines().index(bad_line.splitlines()[0]) + 1
    write_project(tmp_path, {"index.py": INDEX, "acme/__init__.py": "", "acme/service.py": source})
    [finding] = diagnose(tmp_path, static_only=True).findings
    assert (finding.severity, finding.where) == (severity, f"acme/service.py:{line}")
    assert finding.what.startswith(expected)
    assert "Fix: " in str(finding)


GOOD_CODE = """\
import logging
import os
import subprocess
import tempfile
from pathlib import Path

import requests
from blinker import signal
from sqlalchemy import create_engine

BASE = Path(__file__).resolve().parent
SCRATCH = os.path.join(tempfile.gettempdir(), "acme")
DEBUG = os.environ.get("DEBUG") == "1"
PORT = int(os.getenv("PORT", "5000"))
os.environ["TZ"] = "UTC"
SCHEMA = open(BASE / "schema.sql").read()
with open(BASE / "logo.png", "rb") as logo:
    LOGO = logo.read()
engine = create_engine("sqlite://")  # connects on first use, not here
item_saved = signal("item-saved")
item_saved.connect(print)
HANDLER = logging.FileHandler("app.log", delay=True)
TMP_HANDLER = logging.FileHandler("/tmp/app.log")
os.makedirs("/tmp/data", exist_ok=True)
os.makedirs(SCRATCH, exist_ok=True)
Path(f"/tmp/{PORT}").mkdir(exist_ok=True)
Path(tempfile.mkdtemp()).joinpath("x").write_text("x")
handle = lambda path: open(path, "w")


def fetch(db, url):
    os.makedirs("cache", exist_ok=True)
    db.create_all()
    engine.connect()
    subprocess.run(["true"])
    return requests.get(url, timeout=5), os.environ["DATABASE_URL"]


class Service:
    def start(self):
        open("state", "w").close()


if __name__ == "__main__":
    os.makedirs("out", exist_ok=True)
    app.run(debug=True)
"""


def test_code_that_runs_only_when_called_and_writes_under_tmp_are_not_flagged(tmp_path):
    write_project(tmp_path, {"index.py": INDEX, "acme/__init__.py": "", "acme/service.py": GOOD_CODE})
    assert diagnose(tmp_path, static_only=True).findings == []


def test_only_the_modules_the_entrypoint_imports_are_read(tmp_path):
    bad = "import os\nos.makedirs('x')\n"
    files = {
        "index.py": "from acme.views import page\n\napp = page\n",
        "acme/__init__.py": "from . import models\n",
        "acme/models.py": bad,  # imported by the package's __init__
        "acme/views.py": "def page():\n    from .report import build\n",
        "acme/report.py": bad,  # imported inside a function: it may run at import
        "acme/unused.py": bad,
        "tests/test_x.py": bad,
        "migrations/env.py": bad,
        "scripts/seed.py": bad,
        ".venv/pyvenv.cfg": "",
        ".venv/lib/site.py": bad,
    }
    findings = diagnose(write_project(tmp_path, files), static_only=True).findings
    assert [f.where for f in findings] == ["acme/models.py:2", "acme/report.py:2"]


def test_an_entry_file_named_like_a_package_is_the_seeds_import_error(tmp_path):
    files = {
        "app.py": "from app import create_app\n\napp = create_app()\n",
        "app/__init__.py": "",
        "app/x.py": "",
    }
    [finding] = diagnose(write_project(tmp_path, files), static_only=True).findings
    assert str(finding) == (
        "app.py:1: error: app.py has the same name as the package app/: Vercel's runtime registers app.py as "
        "the module 'app' before running it, so `from app import ...` finds the file, not the package "
        "(cannot import name ..., or 'app' is not a package). Fix: rename app.py (to index.py, for "
        "example) or the package."
    )


def test_vercel_json_and_pyproject_that_vercel_cannot_read_are_errors(tmp_path):
    files = {
        "index.py": "app = 1\n",
        "vercel.json": '{\n  "framework": "flask",\n}\n',
        "pyproject.toml": "[x\n",
    }
    findings = diagnose(write_project(tmp_path, files), static_only=True).findings
    assert [(f.severity, f.where) for f in findings] == [
        ("error", "pyproject.toml:1"),
        ("error", "vercel.json:3"),
    ]
    # Python 3.13 words the error differently from 3.12; the line is the same.
    assert findings[1].what.startswith("Vercel cannot read vercel.json: it is not valid JSON (")

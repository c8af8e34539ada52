"""`python -m doctor` finds each warning sign of a failing cold start, at its line; good code passes."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from doctor.static import check_project

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def write_project(root, files):
    """A small project: ``files`` maps paths to source; a good vercel.json unless one is given."""
    files = {"vercel.json": json.dumps({"framework": "flask"}), **files}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def static_report(root):
    return [str(finding) for finding in check_project(root)]


def run_doctor(project):
    return subprocess.run(
        [sys.executable, "-m", "doctor", str(project)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


# (setup lines, the line that must be flagged, the start of the finding's text)
IMPORT_TIME_CALLS = {
    "create_all in an app context": (
        "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\napp = Flask(__name__)\n"
        "db = SQLAlchemy(app)\nwith app.app_context():",
        "    db.create_all()",
        "db.create_all() runs at import: every cold start then needs the database",
    ),
    "engine connect": (
        "from sqlalchemy import create_engine\nengine = create_engine('sqlite://')",
        "connection = engine.connect()",
        "engine.connect() runs at import",
    ),
    "chained engine connect": (
        "import sqlalchemy as sa",
        "sa.create_engine('sqlite://').connect()",
        "sa.create_engine('sqlite://').connect() runs at import",
    ),
    "session query": (
        "from .extensions import db",
        "USERS = db.session.query(User).all()",
        "db.session.query",
    ),
    "legacy query property": (
        "from .models import User",
        "ADMIN = User.query.filter_by(admin=True).first()",
        "User",
    ),
    "sqlite3 connect": ("import sqlite3", "sqlite3.connect('app.db')", "sqlite3.connect('app.db') runs"),
    "psycopg connect": ("import psycopg", "psycopg.connect('')", "psycopg.connect('') runs at import"),
    "psycopg2 connect, aliased": (
        "from psycopg2 import connect",
        "connect('')",
        "connect('') runs at import",
    ),
    "requests": ("import requests", "DATA = requests.get('https://api.example.com')", "requests.get("),
    "httpx": ("import httpx", "httpx.post('https://api.example.com')", "httpx.post("),
    "urlopen": ("from urllib.request import urlopen", "urlopen('https://example.com')", "urlopen("),
    "makedirs": ("import os", "os.makedirs('/tmp/data', exist_ok=True)", "os.makedirs('/tmp/data'"),
    "makedirs in a try": (
        "import os\ntry:",
        "    os.mkdir('cache')\nexcept OSError:\n    pass",
        "os.mkdir('cache') runs at import: the deployed files are read-only on Vercel",
    ),
    "Path.mkdir": ("from pathlib import Path", "Path('uploads').mkdir()", "Path('uploads').mkdir() runs"),
    "Path.write_text": ("from pathlib import Path", "Path('boot.txt').write_text('up')", "Path('boot.txt')"),
    "open for writing": ("", "LOG = open('app.log', 'w')", "open('app.log', 'w') runs at import"),
    "open to append": ("", "LOG = open('app.log', mode='a')", "open('app.log', mode='a') runs"),
    "Path.open for writing": (
        "from pathlib import Path",
        "Path('x.txt').open('w')",
        "Path('x.txt').open('w')",
    ),
    "log file handler": (
        "import logging",
        "HANDLER = logging.FileHandler('app.log')",
        "logging.FileHandler(",
    ),
    "subprocess, aliased": ("import subprocess as sp", "sp.run(['git', 'rev-parse', 'HEAD'])", "sp.run("),
    "os.system": ("import os", "os.system('npm run build')", "os.system('npm run build') runs at import"),
    "thread": ("import threading", "threading.Thread(target=print).start()", "threading.Thread("),
    "environ subscript": (
        "import os",
        "SECRET = os.environ['SECRET_KEY']",
        "os.environ['SECRET_KEY'] is read",
    ),
    "environ from os": (
        "from os import environ",
        "URL = environ['DATABASE_URL']",
        "os.environ['DATABASE_URL']",
    ),
    "environ in a class body": (
        "import os\n\nclass Config:",
        "    SECRET_KEY = os.environ['SECRET_KEY']",
        "os.environ['SECRET_KEY'] is read at import: when the variable is missing",
    ),
}


@pytest.mark.parametrize("setup, bad_line, expected", IMPORT_TIME_CALLS.values(), ids=IMPORT_TIME_CALLS)
def test_each_import_time_side_effect_is_reported_at_its_line(tmp_path, setup, bad_line, expected):
    source = f"{setup}\n{bad_line}\n" if setup else f"{bad_line}\n"
    line = source.splitlines().index(bad_line.splitlines()[0]) + 1
    write_project(tmp_path, {"acme/__init__.py": "", "acme/service.py": source})
    report = static_report(tmp_path)
    assert len(report) == 1, report
    assert report[0].startswith(f"acme/service.py:{line}: {expected}")
    assert "Fix: " in report[0]


GOOD_CODE = """\
import logging
import os
import subprocess
from pathlib import Path

import requests
from blinker import signal
from sqlalchemy import create_engine

BASE = Path(__file__).resolve().parent
DEBUG = os.environ.get("DEBUG") == "1"
PORT = int(os.getenv("PORT", "5000"))
os.environ["TZ"] = "UTC"
SCHEMA = open(BASE / "schema.sql").read()
with open(BASE / "logo.png", "rb") as logo:
    LOGO = logo.read()
engine = create_engine("sqlite://")  # connects on first use, not here
item_saved = signal("item-saved")
item_saved.connect(print)
HANDLER = logging.FileHandler("/tmp/app.log", delay=True)
handle = lambda path: open(path, "w")


def fetch(db, url):
    os.makedirs("/tmp/cache", exist_ok=True)
    Path("/tmp/cache/x").write_text("x")
    db.create_all()
    engine.connect()
    subprocess.run(["true"])
    return requests.get(url, timeout=5), os.environ["DATABASE_URL"]


class Service:
    def start(self):
        open("state", "w").close()


if __name__ == "__main__":
    os.makedirs("out", exist_ok=True)
    subprocess.run(["flask", "--app", "index", "run"])
"""


def test_code_that_runs_only_when_called_is_not_flagged(tmp_path):
    write_project(
        tmp_path, {"index.py": "app = None\n", "acme/__init__.py": "", "acme/service.py": GOOD_CODE}
    )
    assert static_report(tmp_path) == []


def test_files_that_never_run_at_cold_start_are_not_read(tmp_path):
    bad = "import os\nos.makedirs('x')\n"
    venv = {".venv/pyvenv.cfg": "", ".venv/lib/python3/site-packages/lib.py": bad, "env/pyvenv.cfg": ""}
    write_project(
        tmp_path,
        {
            "tests/test_x.py": bad,  # never deployed: vercel.json excludes tests/
            "migrations/env.py": bad,  # run by Alembic in the build, never at cold start
            "acme/__pycache__/x.py": bad,
            "node_modules/pkg/x.py": bad,
            "env/lib/x.py": bad,  # a virtualenv under another name
            **venv,
        },
    )
    assert static_report(tmp_path) == []


def test_app_py_next_to_an_app_package_is_the_seeds_import_error(tmp_path):
    write_project(
        tmp_path, {"app.py": "from app import create_app\n\napp = create_app()\n", "app/__init__.py": ""}
    )
    assert static_report(tmp_path) == [
        "app.py:1: app.py has the same name as the package app/: Vercel loads app.py as the module 'app', "
        "so `from app import ...` fails (cannot import name ... from 'app', or 'app' is not a package). "
        "Fix: keep the app in index.py and delete or rename app.py."
    ]


def test_an_app_py_that_vercel_would_serve_instead_of_index_py_is_reported(tmp_path):
    index = "from acme import create_app\n\napp = create_app()\n"
    later_candidates = {"server.py": "app = None\n", "api/main.py": "app = None\n"}
    write_project(tmp_path, {"index.py": index, "acme/__init__.py": "", **later_candidates})
    assert static_report(tmp_path) == []  # index.py comes before them in Vercel's search
    write_project(tmp_path, {"app.py": "from flask import Flask\n\napp = Flask(__name__)\n"})
    report = static_report(tmp_path)
    assert len(report) == 1
    assert report[0].startswith(
        "app.py:3: Vercel serves app.py instead of index.py: its builder takes the first"
    )
    write_project(tmp_path, {"pyproject.toml": '[tool.vercel]\nentrypoint = "index:app"\n'})
    assert static_report(tmp_path) == []  # the entrypoint is chosen explicitly


def test_a_package_named_like_the_entrypoint_is_reported(tmp_path):
    write_project(tmp_path, {"index.py": "app = None\n", "index/__init__.py": ""})
    report = static_report(tmp_path)
    assert any(
        line.startswith("index/__init__.py:1: the package index/ shadows the entrypoint") for line in report
    )


def test_modules_that_shadow_the_standard_library_or_a_dependency_are_reported(tmp_path):
    pyproject = '[project]\nname = "x"\ndependencies = ["flask>=3.1,<4", "Some.Client-Lib>=1"]\n'
    write_project(
        tmp_path,
        {
            "pyproject.toml": pyproject,
            "email.py": "",  # the standard library's email, which http and werkzeug import
            "werkzeug/__init__.py": "",  # flask's own dependency
            "some_client_lib.py": "",  # a declared dependency, by its normalized name
            "acme/__init__.py": "",
        },
    )
    report = static_report(tmp_path)
    assert report[0].startswith("email.py:1: email.py shadows the standard-library module 'email'")
    assert report[1].startswith(
        "some_client_lib.py:1: some_client_lib.py shadows the dependency some-client-lib"
    )
    assert report[2].startswith(
        "werkzeug/__init__.py:1: werkzeug/__init__.py shadows the dependency werkzeug"
    )
    assert len(report) == 3, report


def test_legacy_vercel_json_keys_are_reported_at_their_lines(tmp_path):
    config = '{\n  "builds": [{"src": "index.py", "use": "@vercel/python"}],\n  "routes": []\n}\n'
    write_project(tmp_path, {"vercel.json": config})
    report = static_report(tmp_path)
    assert report[0].startswith('vercel.json:1: vercel.json does not set "framework": "flask"')
    assert report[1].startswith(
        'vercel.json:2: vercel.json uses the legacy "builds": it switches off the Flask'
    )
    assert report[2].startswith('vercel.json:3: vercel.json uses the legacy "routes"')


def test_a_broken_or_missing_vercel_json_is_reported(tmp_path):
    write_project(tmp_path, {"vercel.json": '{\n  "framework": "flask",\n}\n'})
    assert static_report(tmp_path)[0].startswith("vercel.json:3: vercel.json is not valid JSON")
    (tmp_path / "vercel.json").unlink()
    assert static_report(tmp_path)[0].startswith("vercel.json:1: there is no vercel.json: with the project's")


def test_this_project_is_healthy():
    result = run_doctor(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == f"doctor: no problems found in {PROJECT_ROOT}\n"


def test_the_import_pass_finds_what_runs_inside_create_app(tmp_path):
    # The seed's failure: the I/O hides in a function that index.py calls, out of the static pass's sight.
    factory = """\
        import os

        import psycopg
        from flask import Flask


        def create_app():
            app = Flask(__name__)
            psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=1)
            return app
        """
    write_project(tmp_path, {"index.py": "from acme import create_app\n\napp = create_app()\n"})
    write_project(tmp_path, {"acme/__init__.py": factory})
    result = run_doctor(tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "acme/__init__.py:9: psycopg.connect() to a database while importing index" in lines[0]
    assert lines[-1].startswith("acme/__init__.py:9: importing index raised psycopg.OperationalError")
    assert "500 FUNCTION_INVOCATION_FAILED" in lines[-1]
    assert "acme/__init__.py:3: imports psycopg while importing index" in result.stdout
    assert result.stderr == f"doctor: {len(lines)} problem(s) in {tmp_path}\n"


def test_a_problem_both_passes_see_is_reported_once(tmp_path):
    index = (
        "import os\nfrom flask import Flask\n\napp = Flask(__name__)\nos.makedirs('cache', exist_ok=True)\n"
    )
    write_project(tmp_path, {"index.py": index})
    result = run_doctor(tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "index.py:5: os.makedirs('cache', exist_ok=True) runs at import: the deployed files are read-only"
        " on Vercel, so a write there raises OSError at every cold start, and /tmp is per instance and lost"
        " with it. Fix: write on first use inside a function (scratch data under tempfile.gettempdir())."
    ]


def test_the_doctor_refuses_a_path_that_is_not_a_project(tmp_path):
    result = run_doctor(tmp_path / "missing")
    assert result.returncode == 2
    assert "is not a directory: give the project's root" in result.stderr

"""Importing index.py must do nothing but define the app: that is what every cold start runs."""

from pathlib import Path

from doctor.import_guard import check_import

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_importing_the_entrypoint_has_no_side_effects():
    assert check_import(PROJECT_ROOT).problems == []


def test_importing_the_entrypoint_loads_no_database_library():
    report = check_import(PROJECT_ROOT)
    assert report.heavy_modules == []
    assert report.app_type == "flask.app.Flask"


def test_import_is_pure_on_vercel_without_a_database():
    assert check_import(PROJECT_ROOT, env={"VERCEL": "1", "DATABASE_URL": ""}).problems == []


def test_the_guard_names_each_side_effect_and_its_line(tmp_path):
    (tmp_path / "index.py").write_text(
        "import os, socket, sqlite3, subprocess\n"
        "from flask import Flask\n"
        "app = Flask(__name__)\n"
        "os.makedirs('cache', exist_ok=True)\n"
        "open('boot.log', 'w').close()\n"
        "sqlite3.connect('app.db')\n"
        "socket.create_connection(('127.0.0.1', 1)) if False else None\n"
        "subprocess.run(['true'])\n"
    )
    problems = "\n".join(check_import(tmp_path).problems)
    assert "index.py:4: os.mkdir 'cache'" in problems
    assert "index.py:5: opened 'boot.log' for writing" in problems
    assert "index.py:6: connected to SQLite database 'app.db'" in problems
    assert "index.py:8: started a process" in problems
    assert "index.py:1: imports sqlite3 while importing index" in problems


def test_the_guard_sees_a_driver_connect_that_audit_hooks_miss(tmp_path):
    (tmp_path / "index.py").write_text(
        "import os, psycopg\n"
        "from flask import Flask\n"
        "app = Flask(__name__)\n"
        "try:\n"
        "    psycopg.connect(os.environ['DATABASE_URL'], connect_timeout=1)\n"
        "except psycopg.OperationalError:\n"
        "    pass\n"
    )
    problems = "\n".join(check_import(tmp_path).problems)
    assert "index.py:5: psycopg.connect() to a database" in problems

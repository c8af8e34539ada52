"""Which interpreter runs the project's code when none is given, and the API a project's tests call."""

import sys
from pathlib import Path

import pytest
from helpers import CORPUS

from flask_vercel_doctor import CouldNotRun, Entrypoint, ImportReport, check_import
from flask_vercel_doctor.environment import project_python
from flask_vercel_doctor.imports import slow_import


def test_a_given_interpreter_comes_first(tmp_path, corpus_python):
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").touch()
    assert project_python(tmp_path, corpus_python) == (corpus_python, "given")


def test_the_project_s_venv_comes_next(tmp_path):
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").touch()
    assert project_python(tmp_path) == (str(tmp_path / "venv" / "bin" / "python"), "the project's venv")


def test_then_the_running_interpreter_when_it_belongs_to_the_project(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "env"))
    assert project_python(tmp_path) == (sys.executable, "the running interpreter (inside the project)")


def test_or_when_it_is_a_virtual_environment_with_flask(tmp_path, monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name: object() if name == "flask" else None)
    monkeypatch.setattr(sys, "prefix", "/elsewhere/venv")
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    assert project_python(tmp_path)[0] == sys.executable
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)  # e.g. `uv tool run`'s own venv
    with pytest.raises(CouldNotRun, match=f"could not run: no environment for {tmp_path}; create one"):
        project_python(tmp_path)


def test_check_import_is_the_one_line_a_project_s_test_needs(corpus_python, untouched):
    report = check_import(untouched(CORPUS / "entry_wsgi_py"), python=corpus_python)
    assert report.errors == []
    assert (report.entrypoint.file, report.entrypoint.variable) == ("wsgi.py", "application")
    assert report.import_ms >= report.flask_ms > 0
    assert report.app_type == "flask.app.Flask"
    assert Path(report.python) == Path(corpus_python)


def test_check_import_reports_that_vercel_would_serve_nothing(tmp_path):
    (tmp_path / "requirements.txt").write_text("flask\n")
    [finding] = check_import(tmp_path).errors
    assert finding.what.startswith("Vercel finds no entrypoint")


def test_an_import_is_slow_at_six_times_flask_alone_and_the_warning_names_the_costliest():
    entrypoint = Entrypoint("index.py", "app", "")
    largest = [("pandas", 900.0), ("sqlalchemy", 300.0), ("flask", 150.0), ("jinja2", 40.0)]
    report = ImportReport(entrypoint, import_ms=1300.0, flask_ms=200.0, largest_imports=largest)
    [finding] = slow_import(report)
    assert (finding.severity, finding.where, finding.kind) == ("warning", "index.py:1", "slow_import")
    assert finding.what == (
        "importing index.py took 1300 ms, more than 6 × `import flask` alone (200 ms); "
        "the largest imports: pandas 900 ms, sqlalchemy 300 ms, flask 150 ms"
    )
    assert slow_import(ImportReport(entrypoint, import_ms=1200.0, flask_ms=200.0)) == []
    assert slow_import(ImportReport(entrypoint, import_ms=1200.0, flask_ms=None))[0].what.endswith("1000 ms")

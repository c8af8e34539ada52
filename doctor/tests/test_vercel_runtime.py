"""The cold-start harness: a project started as Vercel's runtime starts it, read-only, and a project's
test using the plugin's fixture."""

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import CORPUS

from flask_vercel_doctor.vercel_runtime import FunctionFailed, ReadOnlyUnavailable, start_project

SOURCES = Path(__file__).resolve().parents[1] / "src"


@contextlib.contextmanager
def started(root, python):
    """start_project, skipped where a read-only mount is impossible unless the run requires it."""
    try:
        with start_project(root, python=python) as function:
            yield function
    except ReadOnlyUnavailable as reason:
        if os.environ.get("REQUIRE_READ_ONLY_COLD_START") == "1" or os.environ.get("CI"):
            pytest.fail(str(reason))
        pytest.skip(str(reason))


def test_the_entrypoint_vercel_resolves_is_served_read_only(corpus_python, untouched):
    with started(untouched(CORPUS / "entry_api_index"), corpus_python) as function:
        response = function.get("/")
        assert (response.status, response.json()) == (200, {"status": "ok"})
        assert response.headers.get("CONTENT-TYPE") == "application/json"
        assert function.alive()
        assert function.init_duration_ms > 0


def test_an_import_that_fails_read_only_is_reported_with_its_error(corpus_python, untouched):
    project = untouched(CORPUS / "create_app_writes_log")
    with pytest.raises(FunctionFailed) as failed, started(project, corpus_python):
        pass
    assert "unrecoverable-error" in str(failed.value)
    assert "OSError: [Errno 30] Read-only file system: 'logs'" in str(failed.value)


def test_a_project_vercel_would_not_serve_is_not_started(corpus_python):
    with pytest.raises(FunctionFailed, match="Vercel would serve nothing here"):
        start_project(CORPUS / "no_entrypoint", python=corpus_python)


def test_a_project_s_cold_start_test_is_one_line_with_the_plugin_s_fixture(corpus_python, tmp_path):
    project = shutil.copytree(CORPUS / "entry_app_py", tmp_path / "project")
    (project / "tests").mkdir()
    (project / "tests" / "test_cold_start.py").write_text(
        "def test_home_answers(vercel_cold_start):\n"
        "    assert vercel_cold_start().get('/').json() == {'status': 'ok'}\n"
    )
    # The corpus venv has pytest but not this package: load the plugin from the sources.
    command = [
        corpus_python,
        "-m",
        "pytest",
        "-p",
        "flask_vercel_doctor.pytest_plugin",
        "-p",
        "no:cacheprovider",
    ]
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(SOURCES), "REQUIRE_READ_ONLY_COLD_START": "1"}
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cold-start init duration (Vercel runtime, read-only)" in result.stdout
    assert " ms  tests/test_cold_start.py::test_home_answers" in result.stdout

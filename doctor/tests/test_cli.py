"""The console script as a user runs it: its report, and its exit codes 0, 1 and 2."""

import shutil
import subprocess
import sys
from pathlib import Path

from helpers import CORPUS

DOCTOR = Path(sys.executable).with_name("flask-vercel-doctor")


def run_doctor(*arguments, cwd=None):
    return subprocess.run(
        [DOCTOR, *map(str, arguments)], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def test_a_clean_project_exits_0_and_says_what_vercel_serves(corpus_python):
    result = run_doctor(CORPUS / "entry_wsgi_py", "--python", corpus_python)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"flask-vercel-doctor 0.3.0: {CORPUS / 'entry_wsgi_py'}"
    assert lines[1].startswith("Vercel serves: wsgi.py, variable application (found by Vercel's search")
    assert lines[2].startswith("Import: ") and f"with {corpus_python}; `import flask` alone: " in lines[2]
    assert lines[3:] == ["0 errors, 0 warnings."]


def test_errors_exit_1_one_line_each(corpus_python, untouched):
    result = run_doctor(untouched(CORPUS / "create_app_writes_log"), "--python", corpus_python)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-2:] == [
        "notes/__init__.py:9: error: the import creates the directory 'logs': the deployed files are "
        "read-only on Vercel and only /tmp is writable, so this raises OSError (Read-only file system) at "
        "every cold start. Fix: write under tempfile.gettempdir() (/tmp on Vercel), on first use inside a "
        "function.",
        "1 error, 0 warnings.",
    ]


def test_warnings_alone_exit_0(corpus_python):
    result = run_doctor(CORPUS / "warning_signs", "--python", corpus_python)
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == "0 errors, 3 warnings."


def test_a_variable_given_on_the_command_line_is_set_for_the_import(corpus_python):
    project = CORPUS / "dotenv_decouple"
    assert run_doctor(project, "--python", corpus_python).returncode == 1
    assert run_doctor(project, "--python", corpus_python, "--env", "SECRET_KEY=x").returncode == 0


def test_without_an_environment_it_exits_2_and_says_what_to_do(tmp_path):
    project = shutil.copytree(CORPUS / "clean_requirements_txt", tmp_path / "project")
    result = run_doctor(project)  # no .venv, and the doctor's own environment has no Flask
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"flask-vercel-doctor: could not run: no environment for {project}; create one (`uv sync`, or "
        "`python -m venv .venv` and install the requirements into it) or pass --python PATH (python=... "
        "from Python); --static-only checks without importing anything\n"
    )
    static = run_doctor(project, "--static-only")
    assert (static.returncode, static.stdout.splitlines()[-1]) == (0, "0 errors, 0 warnings.")


def test_the_project_s_own_venv_is_used_by_default(corpus_python, tmp_path):
    project = shutil.copytree(CORPUS / "entry_app_py", tmp_path / "project")
    (project / ".venv").symlink_to(Path(corpus_python).parents[1])  # the venv as if made in the project
    result = run_doctor(cwd=project)  # PROJECT defaults to the current directory
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"with {project / '.venv' / 'bin' / 'python'}" in result.stdout


def test_bad_input_exits_2_with_a_sentence_not_a_traceback(tmp_path, corpus_python):
    missing = run_doctor(tmp_path / "missing", "--python", corpus_python)
    assert missing.returncode == 2
    reason = f"{tmp_path / 'missing'} is not a directory; give the project's root"
    assert missing.stderr == f"flask-vercel-doctor: could not run: {reason}\n"
    not_python = run_doctor(CORPUS / "entry_app_py", "--python", tmp_path / "nope")
    assert (not_python.returncode, "is not an interpreter" in not_python.stderr) == (2, True)
    bad_env = run_doctor(CORPUS / "entry_app_py", "--env", "NOVALUE")
    assert (bad_env.returncode, bad_env.stderr) == (
        2,
        "flask-vercel-doctor: --env 'NOVALUE' is not NAME=VALUE\n",
    )


def test_python_m_runs_the_same_program():
    result = subprocess.run(
        [sys.executable, "-m", "flask_vercel_doctor", "--version"], capture_output=True, text=True
    )
    assert result.stdout == "flask-vercel-doctor 0.3.0\n"

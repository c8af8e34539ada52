"""Working in a rendered project: its own test suite, and scripts run by its own interpreter."""

import contextlib
import json
import re
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from .commands import free_port, run
from .environments import DOCTOR, project_env

PROJECT_SCRIPTS = Path(__file__).resolve().parent / "project_scripts"
# The model field every rendered project has (package acme_notes): edits to the models go around it.
NAME_FIELD = "    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))\n"


def project_script(name):
    """A module of ``project_scripts/``, to run with a project's interpreter in the project directory."""
    path = PROJECT_SCRIPTS / f"{name}.py"
    assert path.is_file(), f"no project script {name}"
    return path


def run_in_project(project, venv, script, *arguments, env=None, check=True, **kwargs):
    """Run ``project_scripts/<script>.py`` with the project's venv, its directory importable."""
    command = [venv / "bin" / "python", project_script(script), *map(str, arguments)]
    # The project is importable as it is on Vercel; PYTHONDONTWRITEBYTECODE keeps shared renders clean.
    full_env = project_env(venv, PYTHONPATH=str(project), PYTHONDONTWRITEBYTECODE="1", **(env or {}))
    return run(command, cwd=project, env=full_env, check=check, **kwargs)


def use_doctor_under_test(project):
    """Point the project's flask-vercel-doctor at this checkout's ``doctor/`` instead of its git source.

    A rendered project pins the doctor to the template commit it came from; with uncommitted
    changes here that commit does not exist, and the tests are about the code as it is now.
    A project without the doctor (the benchmark's fixtures) is left as it is.
    """
    pyproject = Path(project) / "pyproject.toml"
    text = pyproject.read_text()
    if '"flask-vercel-doctor"' not in text:
        return
    source = f'flask-vercel-doctor = {{ path = "{DOCTOR}" }}'
    text, count = re.subn(r"^flask-vercel-doctor = \{.*\}$", source, text, flags=re.MULTILINE)
    assert count == 1, f"{pyproject} depends on flask-vercel-doctor without a [tool.uv.sources] line for it"
    pyproject.write_text(text)


def requests_in_project(project, venv, database_url, *requests, **env):
    """Send ``requests`` ([METHOD, PATH, body?]) to the project's app in one process; their answers."""
    env["DATABASE_URL"] = database_url
    return report_of(run_in_project(project, venv, "client", json.dumps(list(requests)), env=env))


def edit_models(project, old, new):
    """Edit the project's models.py as its developer would: ``old`` (which must be there) becomes ``new``."""
    models = Path(project) / "acme_notes" / "models.py"
    assert old in models.read_text(), f"{old!r} is not in {models}"
    models.write_text(models.read_text().replace(old, new))


def add_model_field(project, field):
    """Add ``field`` (a line of Python, e.g. "price: Mapped[int | None]") to the Item model."""
    edit_models(project, NAME_FIELD, f"{NAME_FIELD}    {field}\n")


def report_of(result):
    """The JSON a project script prints on its last line."""
    return json.loads(result.stdout.splitlines()[-1])


def create_tables(project, venv, database_url=None, **env):
    """Create the project's tables its own way: the ``create_tables()`` of its strategy module.

    Without ``database_url``, the project's own default: the local SQLite file in ``instance/``.
    """
    if database_url:
        env["DATABASE_URL"] = database_url
    run_in_project(project, venv, "create_tables", env=env)


def run_project_tests(project, venv, *arguments, check=True, env=None):
    """The generated project's own pytest, run with the shared venv."""
    command = [venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *arguments]
    # The template's suite proves the read-only cold starts: they must run here, never skip.
    full_env = project_env(venv, REQUIRE_READ_ONLY_COLD_START="1", **(env or {}))
    return run(command, cwd=project, env=full_env, check=check)


@contextlib.contextmanager
def flask_run(project, venv, **env):
    """`flask --app index run` in ``project`` on a free port; yields its base URL once it answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+") as output:
        command = ["flask", "--app", "index", "run", "--port", str(port)]
        server = subprocess.Popen(
            command, cwd=project, env=project_env(venv, **env), stdout=output, stderr=subprocess.STDOUT
        )
        try:
            for _ in range(150):
                try:
                    urllib.request.urlopen(f"{base}/api/health", timeout=5).close()
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                output.seek(0)
                raise AssertionError(f"flask run did not answer within 15 s:\n{output.read()}")
            yield base
        finally:
            server.terminate()
            server.wait(timeout=10)

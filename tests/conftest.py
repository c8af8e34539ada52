import hashlib
import os
from urllib.parse import urlsplit, urlunsplit

import pytest

from support import MATRIX, STRATEGIES, matrix_selection, project_requirements, project_venv, run

RUN_SQL_AUTOCOMMIT = "import psycopg, sys\npsycopg.connect(sys.argv[1], autocommit=True).execute(sys.argv[2])"
MATRIX_OPTIONS = {"strategy": "--strategy", "python_version": "--python", "database": "--database"}


def pytest_addoption(parser):
    group = parser.getgroup("template matrix", "narrow the matrix (default: every value)")
    for axis, option in MATRIX_OPTIONS.items():
        every, variable = MATRIX[axis]
        group.addoption(
            option,
            dest=f"matrix_{axis}",
            action="append",
            metavar=every[0],
            help=f"only this {axis}: {', '.join(every)} (repeatable or comma-separated; env {variable})",
        )


def pytest_collection_modifyitems(config, items):
    """Deselect the tests whose strategy, Python or database is outside the chosen matrix."""
    try:
        selection = {axis: matrix_selection(axis, config.getoption(f"matrix_{axis}")) for axis in MATRIX}
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    kept, deselected = [], []
    for item in items:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        outside = any(
            params.get(axis) in MATRIX[axis][0] and params[axis] not in selection[axis] for axis in MATRIX
        )
        (deselected if outside else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture(autouse=True, scope="session")
def isolated_copier_settings(tmp_path_factory):
    """The developer's own Copier settings must not change what the template renders."""
    settings = tmp_path_factory.mktemp("copier-settings") / "settings.yml"
    settings.write_text("{}\n")  # an empty mapping: Copier rejects a zero-byte settings file
    previous = os.environ.get("COPIER_SETTINGS_PATH")
    os.environ["COPIER_SETTINGS_PATH"] = str(settings)
    yield
    if previous is None:
        os.environ.pop("COPIER_SETTINGS_PATH")
    else:
        os.environ["COPIER_SETTINGS_PATH"] = previous


@pytest.fixture(scope="session")
def render(copie_session):
    """Render the template once per set of answers for the whole session."""
    rendered = {}

    def render(**answers):
        answers = {"project_name": "Acme Notes", **answers}
        key = tuple(sorted(answers.items()))
        if key not in rendered:
            result = copie_session.copy(extra_answers=answers)
            assert result.exit_code == 0, result.exception
            rendered[key] = result.project_dir
        return rendered[key]

    return render


@pytest.fixture(params=STRATEGIES)
def strategy(request):
    return request.param


@pytest.fixture
def project(render, strategy):
    """The project rendered for ``strategy`` with default answers (shared: copy it before changing it)."""
    return render(db_init_strategy=strategy)


@pytest.fixture(scope="session")
def venv_for(render):
    """A shared venv per Python version holding every strategy's dependencies."""

    def venv_for(python_version):
        requirements = set()
        for strategy in STRATEGIES:
            project = render(db_init_strategy=strategy, python_version=python_version)
            requirements.update(project_requirements(project))
        return project_venv(python_version, sorted(requirements))

    return venv_for


@pytest.fixture
def postgres_url(request, venv_for):
    """An empty PostgreSQL database for one test, on the server TEST_POSTGRES_URL points at."""
    server = os.environ.get("TEST_POSTGRES_URL")
    if not server:
        pytest.skip("no PostgreSQL server: set TEST_POSTGRES_URL to one (CI's service container does)")
    name = "test_" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:12]
    python = venv_for("3.12") / "bin" / "python"  # the projects' venv has psycopg; the tools venv has not

    def admin(sql):
        run([python, "-c", RUN_SQL_AUTOCOMMIT, server, sql])

    admin(f"DROP DATABASE IF EXISTS {name}")
    admin(f"CREATE DATABASE {name}")
    yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

import os
from typing import NamedTuple

import pytest

from template_tools import pgbouncer, postgres
from template_tools.environments import project_requirements, project_venv
from template_tools.matrix import DRIVERS, MATRIX, STRATEGIES, matrix_selection

POSTGRES_FIXTURES = {"postgres_server", "postgres_url", "postgres_pooler", "pooled_database"}
MATRIX_OPTIONS = {"strategy": "--strategy", "python_version": "--python", "database": "--database"}


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: two workers more than cores. Many tests wait on subprocesses, servers, retries and
    the package index: on 2 cores, 2 workers kept them about 70% busy and 3 workers 75%."""
    return (os.cpu_count() or 1) + 2


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
        params = dict(item.callspec.params) if hasattr(item, "callspec") else {}
        # The database axis: a test that asks for a PostgreSQL server is on it; every other test is not.
        params["database"] = "postgres" if POSTGRES_FIXTURES & set(item.fixturenames) else "sqlite"
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
    """A shared venv per Python version holding every strategy's dependencies, with either driver."""

    def venv_for(python_version):
        requirements = set()
        for strategy in STRATEGIES:
            project = render(db_init_strategy=strategy, python_version=python_version)
            requirements.update(project_requirements(project))
        for driver in DRIVERS:
            project = render(database_driver=driver, python_version=python_version)
            requirements.update(project_requirements(project))
        return project_venv(python_version, sorted(requirements))

    return venv_for


def start_or_give_up(start, what):
    """``start()``'s server, or a skip that says why (a failure when REQUIRE_POSTGRES=1, as in CI)."""
    try:
        return start()
    except postgres.PostgresUnavailable as error:
        reason = f"no {what}: {error}"
    # Outside the except block, so the report shows the reason, not a traceback.
    if postgres.postgres_required():
        pytest.fail(f"{reason} (REQUIRE_POSTGRES=1 makes this a failure)", pytrace=False)
    pytest.skip(f"{reason} (REQUIRE_POSTGRES=1 would make this a failure)")


@pytest.fixture(scope="session")
def postgres_server():
    """TEST_DATABASE_URL's server, or a throwaway one for this session (one per xdist worker)."""
    server = start_or_give_up(postgres.start_server, "PostgreSQL server")
    yield server
    server.close()


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty PostgreSQL database, dropped after the test."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def postgres_pooler(postgres_server):
    """TEST_POOLER_URL's transaction pooler, or a throwaway PgBouncer (server pool of 2) in front of
    ``postgres_server``."""
    pooler = start_or_give_up(lambda: pgbouncer.start_pooler(postgres_server), "transaction-mode pooler")
    yield pooler
    pooler.close()


class PooledDatabase(NamedTuple):
    """One fresh database, reached directly (for schema changes) and through the pooler."""

    direct: str
    pooled: str


@pytest.fixture
def pooled_database(postgres_url, postgres_pooler):
    return PooledDatabase(direct=postgres_url, pooled=postgres_pooler.pooled_url(postgres_url))


# The cold starts' init durations are listed by the flask-vercel-doctor plugin already.
REPORTED_FIGURES = (
    "vercel_build_seconds",
    "generated_cold_starts",
    "pooled_race",
    "wake_up",
    "connection_budget",
    "day_two_steps",
    "static_listing",
    "browser_check",
)


def pytest_terminal_summary(terminalreporter):
    """List the figures tests recorded (also under pytest-xdist): build times, the generated suites' cold
    starts, races and load through the pooler, wake-ups, the connection budget, the day-two steps, the
    static files of a build and the browser check."""
    lines = [
        f"{report.nodeid}  {name}: {value}"
        for report in terminalreporter.stats.get("passed", [])
        for name, value in report.user_properties
        if name in REPORTED_FIGURES
    ]
    if lines:
        terminalreporter.write_sep("-", "figures recorded by the tests")
        terminalreporter.write_line("\n".join(sorted(lines)))

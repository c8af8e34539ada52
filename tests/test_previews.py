"""Previews never touch production's schema: the migrations strategy's build step in each Vercel environment.

The build step runs as Vercel's Python builder runs it: `[tool.vercel.scripts] build` through `sh -c`,
in a venv made by `uv sync --no-dev`, with VERCEL=1, VERCEL_ENV and a database URL. PostgreSQL
databases stand in for production and for a preview's own database (Neon's branch per preview, a
copy of production); the code is main's (revision 0001) or a pull request's, which adds a column
and the revision `flask db migrate` generated for it.
"""

import shutil

import pytest

from template_tools.commands import run
from template_tools.environments import project_env
from template_tools.postgres import query
from template_tools.projects import add_model_field, requests_in_project
from template_tools.vercel import ToolsUnavailable, build_venv, run_build_step, skip_or_fail, vercel_build

pytestmark = pytest.mark.slow  # a venv from PyPI, builds, a PostgreSQL server

OPTED_IN = {"PREVIEWS_HAVE_OWN_DATABASE": "1"}


@pytest.fixture(scope="module")
def main_branch(render, tmp_path_factory):
    """main's code: the migrations project as rendered, at revision 0001."""
    return shutil.copytree(render(db_init_strategy="migrations"), tmp_path_factory.mktemp("main") / "project")


@pytest.fixture(scope="module")
def pull_request(main_branch, venv_for, tmp_path_factory):
    """A pull request's code: items get a price, and its revision. Returns (project, revision id)."""
    work = tmp_path_factory.mktemp("pull-request")
    project = shutil.copytree(main_branch, work / "project")
    add_model_field(project, "price: Mapped[int | None]")
    env = project_env(
        venv_for("3.12"), DATABASE_URL=f"sqlite:///{work / 'dev.sqlite3'}", PYTHONDONTWRITEBYTECODE="1"
    )
    run(["flask", "--app", "index", "db", "upgrade"], cwd=project, env=env)
    run(["flask", "--app", "index", "db", "migrate", "-m", "add price"], cwd=project, env=env)
    [revision] = (project / "migrations" / "versions").glob("*_add_price.py")
    return project, revision.name.split("_")[0]


@pytest.fixture(scope="module")
def vercel_venv(main_branch):
    """The build venv, as Vercel makes it: `uv sync --no-dev` (main's and the pull request's dependencies)."""
    try:
        return build_venv(main_branch)
    except ToolsUnavailable as reason:
        skip_or_fail(reason)


@pytest.fixture
def preview_branch_of(postgres_server):
    """Neon's database branch for a preview: a copy of the database at ``url`` as it is now."""
    made = []

    def preview_branch_of(url):
        made.append(postgres_server.create_database(copy_of=url))
        return made[-1]

    yield preview_branch_of
    for url in made:
        postgres_server.drop_database(url)


def build(project, venv, database_url, **variables):
    """The project's build step on Vercel: (exit code, build log)."""
    result = run_build_step(project, venv, DATABASE_URL=database_url, **variables)
    return result.returncode, result.stdout + result.stderr


def migrate_lines(log):
    return [line for line in log.splitlines() if line.startswith("migrate:")]


def schema(database_url):
    """(its tables, the revision alembic_version holds or None)."""
    tables = {
        name for (name,) in query(database_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    }
    if "alembic_version" not in tables:
        return tables, None
    [(revision,)] = query(database_url, "SELECT version_num FROM alembic_version")
    return tables, revision


def columns(database_url, table):
    sql = (
        "SELECT column_name FROM information_schema.columns WHERE table_name = '{}' ORDER BY ordinal_position"
    )
    return [name for (name,) in query(database_url, sql.format(table))]


def test_a_production_build_upgrades_the_database(main_branch, vercel_venv, postgres_url):
    exit_code, log = build(main_branch, vercel_venv, postgres_url, VERCEL_ENV="production")
    assert exit_code == 0, log
    assert "Running upgrade  -> 0001" in log
    assert migrate_lines(log) == ["migrate: the database schema is up to date."]
    assert schema(postgres_url) == ({"alembic_version", "items"}, "0001")


def test_a_preview_sharing_productions_database_skips_and_its_code_answers_503(
    main_branch, pull_request, vercel_venv, postgres_url
):
    assert build(main_branch, vercel_venv, postgres_url, VERCEL_ENV="production")[0] == 0
    project, revision = pull_request

    exit_code, log = build(project, vercel_venv, postgres_url, VERCEL_ENV="preview")
    assert exit_code == 0, log
    [line] = migrate_lines(log)  # one line: why, and which variable turns it on
    assert line.startswith("migrate: skipping the upgrade: a preview build. Previews may share production's")
    assert "set PREVIEWS_HAVE_OWN_DATABASE=1 for the Preview environment" in line
    assert "Running upgrade" not in log
    assert schema(postgres_url)[1] == "0001"
    assert columns(postgres_url, "items") == ["id", "name"]

    # The preview's code needs the price column production does not have: a 503 that says why.
    [answer] = requests_in_project(
        project, vercel_venv, postgres_url, ["GET", "/api/items"], VERCEL="1", VERCEL_ENV="preview"
    )
    assert answer["status"] == 503, answer
    message = answer["json"]["message"]
    assert message.startswith("The database is older than this code: a column it uses is missing.")
    assert "This preview's build did not upgrade it." in message
    assert message.endswith(f"The database is at revision 0001; this code needs revision {revision}.")


def test_a_preview_with_its_own_database_upgrades_it_and_production_stays(
    main_branch, pull_request, vercel_venv, postgres_url, preview_branch_of
):
    assert build(main_branch, vercel_venv, postgres_url, VERCEL_ENV="production")[0] == 0
    preview_url = preview_branch_of(postgres_url)
    project, revision = pull_request

    exit_code, log = build(project, vercel_venv, preview_url, VERCEL_ENV="preview", **OPTED_IN)
    assert exit_code == 0, log
    assert f"Running upgrade 0001 -> {revision}, add price" in log
    assert migrate_lines(log) == ["migrate: the database schema is up to date."]
    assert schema(preview_url)[1] == revision
    assert columns(preview_url, "items") == ["id", "name", "price"]
    assert schema(postgres_url)[1] == "0001"
    assert columns(postgres_url, "items") == ["id", "name"]
    [answer] = requests_in_project(
        project, vercel_venv, preview_url, ["GET", "/api/items"], VERCEL="1", VERCEL_ENV="preview", **OPTED_IN
    )
    assert (answer["status"], answer["json"]) == (200, [])


def test_a_database_ahead_of_the_code_stops_the_build_with_the_ways_out(
    main_branch, pull_request, vercel_venv, postgres_url
):
    project, revision = pull_request
    # The mistake the preview guard prevents: a preview that shares production's database, opted in.
    assert build(project, vercel_venv, postgres_url, VERCEL_ENV="preview", **OPTED_IN)[0] == 0

    exit_code, log = build(main_branch, vercel_venv, postgres_url, VERCEL_ENV="production")
    assert exit_code == 1
    assert migrate_lines(log) == [
        f"migrate: the database is at revision {revision}, which this code does not have (its newest: 0001)."
    ]
    message = " ".join(log.split())
    assert "(a preview sharing it), or an older commit is being deployed after a newer one" in message
    assert "Nothing was changed" in message
    assert "merge the branch that added it (often main) into this one" in message
    assert "`flask --app index db downgrade 0001` on this database" in message
    assert "`flask --app index db stamp --purge 0001`" in message
    assert "Traceback" not in log and "Running upgrade" not in log
    assert schema(postgres_url)[1] == revision


def test_vercel_build_upgrades_with_prod_and_skips_without(render, postgres_url, tmp_path):
    """A real `vercel build`: the variables `vercel pull` saved for both environments, one database for
    both (as when previews share production's); `--prod` alone decides which environment builds."""
    project = render(db_init_strategy="migrations")
    shared = {"DATABASE_URL": postgres_url}
    try:
        *_, preview_log = vercel_build(project, tmp_path / "preview", variables=shared)
        assert schema(postgres_url) == (set(), None)
        *_, production_log = vercel_build(project, tmp_path / "production", production=True, variables=shared)
    except ToolsUnavailable as reason:
        skip_or_fail(reason)
    [skipped] = migrate_lines(preview_log)
    assert skipped.startswith("migrate: skipping the upgrade: a preview build.")
    assert "Running upgrade" not in preview_log
    assert "Running upgrade  -> 0001" in production_log
    assert migrate_lines(production_log) == ["migrate: the database schema is up to date."]
    assert schema(postgres_url) == ({"alembic_version", "items"}, "0001")

"""Flask's own idioms work in the generated projects, and none of them puts Alembic on a request."""

from template_tools.projects import create_tables, report_of, run_in_project


def test_db_commands_run_on_an_app_built_beforehand(render, venv_for, tmp_path):
    """A deploy script that builds the app, then runs ``flask.cli`` on it (no click context at build)."""
    project = render(db_init_strategy="migrations")
    database = f"sqlite:///{tmp_path / 'built-first.sqlite3'}"
    venv = venv_for("3.12")
    upgraded = run_in_project(
        project, venv, "cli_on_built_app", "db", "upgrade", env={"DATABASE_URL": database}
    )
    assert "Running upgrade  -> 0001" in upgraded.stderr
    current = run_in_project(
        project, venv, "cli_on_built_app", "db", "current", env={"DATABASE_URL": database}
    )
    assert "(head)" in current.stdout


def test_serving_requests_never_loads_flask_migrate_or_alembic(render, venv_for, tmp_path):
    project = render(db_init_strategy="migrations")
    venv = venv_for("3.12")
    database = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    create_tables(project, venv, database)
    result = run_in_project(
        project, venv, "modules_after_requests", "/api/health", "/api/items", env={"DATABASE_URL": database}
    )
    report = report_of(result)
    assert report["statuses"] == [200, 200]
    assert "sqlalchemy" in report["loaded"]  # the items request did reach the database
    assert not {"alembic", "flask_migrate"} & set(report["loaded"])

"""The migrations strategy's daily loop: change a model, generate a revision, upgrade, check; and the
project's own tests stopping a revision that would break the deployment still serving."""

import shutil

import pytest

from template_tools.commands import run
from template_tools.projects import add_model_field, edit_models, run_project_tests


@pytest.fixture
def migrations_project(render, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(render(db_init_strategy="migrations"), project)
    return project


@pytest.fixture
def flask(migrations_project, venv_for, tmp_path):
    """`flask --app index ...` in the project, on a development SQLite database."""
    env = {
        "PATH": f"{venv_for('3.12') / 'bin'}:/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}",
    }

    def flask(*args, check=True):
        return run(["flask", "--app", "index", *args], cwd=migrations_project, env=env, check=check)

    return flask


@pytest.mark.slow
def test_a_model_change_becomes_a_clean_revision_that_upgrades(migrations_project, flask, venv_for):
    project = migrations_project
    flask("db", "upgrade")
    add_model_field(project, "price: Mapped[int | None]")

    assert flask("db", "check", check=False).returncode != 0  # models ahead of revisions: CI catches it
    flask("db", "migrate", "-m", "add price")
    revisions = sorted((project / "migrations" / "versions").glob("*add_price.py"))
    assert len(revisions) == 1
    assert "batch_op.add_column" in revisions[0].read_text()
    run([venv_for("3.12") / "bin" / "ruff", "format", "--check", "--no-cache", revisions[0]], cwd=project)

    flask("db", "upgrade")
    flask("db", "check")
    assert "no revision written" in flask("db", "migrate", "-m", "nothing").stderr
    assert len(list((project / "migrations" / "versions").glob("*.py"))) == 2


@pytest.mark.slow
def test_a_revision_that_breaks_the_serving_deployment_fails_the_tests_until_acknowledged(
    migrations_project, flask, venv_for
):
    project = migrations_project
    flask("db", "upgrade")
    add_model_field(project, "price: Mapped[int | None]")  # expand: old code never sees the new column
    flask("db", "migrate", "-m", "add price")
    flask("db", "upgrade")
    # Then a revision the deployment still serving cannot live with: price dropped, a required
    # quantity with no default, and name's type widened.
    edit_models(project, "    price: Mapped[int | None]\n", "    quantity: Mapped[int]\n")
    edit_models(project, "NAME_MAX_LENGTH = 200", "NAME_MAX_LENGTH = 300")
    flask("db", "migrate", "-m", "reshape items")
    [revision] = (project / "migrations" / "versions").glob("*_reshape_items.py")

    failed = run_project_tests(project, venv_for("3.12"), "tests/test_revisions.py", check=False)
    report = failed.stdout
    assert failed.returncode == 1, report
    assert f"\nmigrations/versions/{revision.name}\n" in report
    assert "add_price" not in report  # the expand step passes
    for statement, rule in [
        ("ALTER TABLE items DROP COLUMN price;", "ban-drop-column"),
        ("ALTER TABLE items ADD COLUMN quantity INTEGER NOT NULL;", "adding-required-field"),
        ("ALTER TABLE items ALTER COLUMN name TYPE VARCHAR(300);", "changing-column-type"),
    ]:
        assert f"  {statement}\n    {rule}: the serving code" in report
    assert "contract step of an expand/contract change" in report

    # The line the report says to add, added: the revision passes from now on.
    [acknowledgement] = [
        line.strip() for line in report.splitlines() if "acknowledged_breaking_changes =" in line
    ]
    text = revision.read_text()
    revision.write_text(text.replace("depends_on = None\n", f"depends_on = None\n{acknowledgement}\n"))
    passed = run_project_tests(project, venv_for("3.12"), "tests/test_revisions.py")
    assert "1 passed" in passed.stdout

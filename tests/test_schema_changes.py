"""The migrations strategy's daily loop: change a model, generate a revision, upgrade, check."""

import shutil

import pytest

from template_tools.commands import run


@pytest.mark.slow
def test_a_model_change_becomes_a_clean_revision_that_upgrades(render, venv_for, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(render(db_init_strategy="migrations"), project)
    venv = venv_for("3.12")
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}"}

    def flask(*args, check=True):
        return run(["flask", "--app", "index", *args], cwd=project, env=env, check=check)

    flask("db", "upgrade")
    models = project / "acme_notes" / "models.py"
    field = "    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))\n"
    models.write_text(models.read_text().replace(field, field + "    price: Mapped[int | None]\n"))

    assert flask("db", "check", check=False).returncode != 0  # models ahead of revisions: CI catches it
    flask("db", "migrate", "-m", "add price")
    revisions = sorted((project / "migrations" / "versions").glob("*add_price.py"))
    assert len(revisions) == 1
    assert "batch_op.add_column" in revisions[0].read_text()
    run([venv / "bin" / "ruff", "format", "--check", "--no-cache", revisions[0]], cwd=project)

    flask("db", "upgrade")
    flask("db", "check")
    assert "no revision written" in flask("db", "migrate", "-m", "nothing").stderr
    assert len(list((project / "migrations" / "versions").glob("*.py"))) == 2

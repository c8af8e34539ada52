"""The questions: good answers render, bad ones are refused with a reason and leave nothing.

The real CLI runs for a few cases, as a user runs it; the many other answers go through Copier's
Python API in-process (same validators, same clean-up), which is ten times faster.
"""

import re
import subprocess

import pytest

from template_tools import REPO_ROOT
from template_tools.commands import COPIER
from template_tools.repository import render, template_snapshot


def copier_copy(destination, *data):
    """The real CLI, as a user runs it: no --trust, no input."""
    arguments = [f"--data={item}" for item in ("project_name=Acme Notes", *data)]
    command = [COPIER, "copy", "--defaults", "--vcs-ref=HEAD", *arguments, str(REPO_ROOT), str(destination)]
    return subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    return template_snapshot(tmp_path_factory.mktemp("template"))


REFUSED_PACKAGE_NAMES = {
    "Acme": "is not a lowercase Python identifier",
    "acme-notes": "is not a lowercase Python identifier",
    "2fast": "is not a lowercase Python identifier",
    "_private": "is not a lowercase Python identifier",
    "class": "is a Python keyword",
    "import": "is a Python keyword",
    "json": "is a standard-library module",
    "email": "is a standard-library module",
    "logging": "is a standard-library module",
    "tomllib": "is a standard-library module",
    "flask": "one of the project's own dependencies",
    "sqlalchemy": "one of the project's own dependencies",
    "flask_migrate": "one of the project's own dependencies",
    "psycopg": "one of the project's own dependencies",
    "werkzeug": "one of the project's own dependencies",
    "index": "clashes with the entrypoint index.py",
    "api": "clashes with the entrypoint index.py",
    "public": "clashes with the entrypoint index.py",
    "tests": "clashes with the entrypoint index.py",
    "migrations": "clashes with the entrypoint index.py",
}


@pytest.mark.parametrize("name, reason", REFUSED_PACKAGE_NAMES.items(), ids=REFUSED_PACKAGE_NAMES)
def test_a_refused_package_name_says_why_and_leaves_nothing(template, tmp_path, name, reason):
    destination = tmp_path / "project"
    with pytest.raises(ValueError, match=re.escape(reason)):
        render(template, destination, package_name=name)
    assert not destination.exists()


def test_the_cli_refuses_a_package_name_with_its_reason_and_leaves_nothing(tmp_path):
    destination = tmp_path / "project"
    result = copier_copy(destination, "package_name=json")
    assert result.returncode != 0
    assert REFUSED_PACKAGE_NAMES["json"] in result.stderr
    assert not destination.exists()


@pytest.mark.parametrize(
    "question, answer", [("db_init_strategy", "create_all_at_import"), ("region", "mars1")]
)
def test_an_answer_outside_the_choices_is_refused(tmp_path, question, answer):
    destination = tmp_path / "project"
    result = copier_copy(destination, f"{question}={answer}")
    assert result.returncode != 0
    assert question in result.stderr
    assert not destination.exists()


def test_an_empty_project_name_is_refused(template, tmp_path):
    destination = tmp_path / "project"
    with pytest.raises(ValueError, match="project_name must not be empty"):
        render(template, destination, project_name=" ")
    assert not destination.exists()


def test_a_good_package_name_renders_from_the_cli_without_trust(tmp_path):
    destination = tmp_path / "project"
    result = copier_copy(destination, "package_name=app", "db_init_strategy=lazy")
    assert result.returncode == 0, result.stderr
    assert (destination / "app" / "__init__.py").exists()
    assert (destination / "index.py").read_text().startswith("from app import create_app")


@pytest.mark.parametrize("name", ["acme_notes", "notes2"])
def test_good_package_names_render(template, tmp_path, name):
    destination = tmp_path / "project"
    render(template, destination, package_name=name, db_init_strategy="lazy")
    assert (destination / name / "__init__.py").exists()
    assert (destination / "index.py").read_text().startswith(f"from {name} import create_app")


def test_the_package_name_defaults_to_a_slug_of_the_project_name(template, tmp_path):
    destination = tmp_path / "project"
    render(template, destination, project_name="  Acme Notes & Co. ")
    assert (destination / "acme_notes_co" / "__init__.py").exists()

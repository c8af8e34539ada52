"""The template repository itself: safe to use without --trust, and CI runs what the README says."""

import yaml

from support import REPO_ROOT


def test_ci_runs_the_test_command_the_readme_gives():
    readme = (REPO_ROOT / "README.md").read_text()
    command = next(line for line in readme.splitlines() if line.startswith("python3 -m venv .venv"))
    assert command in (REPO_ROOT / ".ci" / "run").read_text()


def test_copier_yml_uses_no_feature_that_needs_trust():
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    assert "_tasks" not in config and "_jinja_extensions" not in config
    assert config["_subdirectory"] == "template"
    assert config["_envops"]["undefined"] == "jinja2.StrictUndefined"


def test_every_question_has_help():
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    questions = {name: spec for name, spec in config.items() if not name.startswith("_")}
    assert set(questions) == {"project_name", "package_name", "db_init_strategy", "python_version"}
    for name, spec in questions.items():
        assert spec.get("help"), name

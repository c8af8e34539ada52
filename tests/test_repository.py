"""The template repository itself: safe to use without --trust, and CI runs what the README says."""

import pytest
import yaml

from template_tools import REPO_ROOT
from template_tools.matrix import DATABASES, MATRIX, PYTHON_VERSIONS, STRATEGIES, matrix_selection
from template_tools.workflows import load_workflow


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
    entries = {name: spec for name, spec in config.items() if not name.startswith("_")}
    asked = {name: spec for name, spec in entries.items() if spec.get("when") is not False}
    questions = {"project_name", "package_name", "db_init_strategy", "database_driver"}
    questions |= {"python_version", "region", "cron"}
    assert set(asked) == questions
    for name, spec in asked.items():
        assert spec.get("help"), name


def load_ci_workflow():
    return load_workflow(REPO_ROOT / ".github" / "workflows" / "ci.yml")


def test_ci_runs_the_whole_matrix_through_the_ci_entry_point():
    job = load_ci_workflow()["jobs"]["test"]
    matrix = job["strategy"]["matrix"]
    assert (tuple(matrix["strategy"]), tuple(matrix["database"]), tuple(matrix["python"])) == (
        STRATEGIES,
        DATABASES,
        PYTHON_VERSIONS,
    )
    for axis, name in (("strategy", "strategy"), ("python_version", "python"), ("database", "database")):
        assert job["env"][MATRIX[axis][1]] == f"${{{{ matrix.{name} }}}}"
    checkout = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # Copier needs the tags
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert len(runs) == 1 and runs[0].endswith("bash .ci/run")  # as root: see the comment there
    assert "postgres" in job["services"]


def test_ci_runs_the_benchmark_the_readme_documents_and_uploads_its_table():
    steps = load_ci_workflow()["jobs"]["benchmark"]["steps"]
    commands = " ".join(step.get("run", "") for step in steps)
    assert ".venv/bin/python -m bench" in commands
    assert ".venv/bin/python -m bench" in (REPO_ROOT / "README.md").read_text()
    upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == "bench/results.md"


def test_the_matrix_is_whole_by_default_and_narrowed_by_option_or_env(monkeypatch):
    monkeypatch.delenv("TEST_STRATEGIES", raising=False)
    assert matrix_selection("strategy") == set(STRATEGIES)
    monkeypatch.setenv("TEST_STRATEGIES", "lazy, manual")
    assert matrix_selection("strategy") == {"lazy", "manual"}
    assert matrix_selection("strategy", ["migrations"]) == {"migrations"}  # the option wins
    with pytest.raises(ValueError, match="unknown strategy eager: choose from migrations, lazy"):
        matrix_selection("strategy", ["lazy,eager"])

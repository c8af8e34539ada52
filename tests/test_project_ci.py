"""The generated project's CI workflow: it parses, every command it runs exists, and they pass here."""

import shlex
import shutil
import tomllib

import pytest

from template_tools.commands import run
from template_tools.environments import project_env
from template_tools.workflows import load_workflow

WORKFLOW = ".github/workflows/ci.yml"
SERVICE_HOST = "@localhost:5432/"


def workflow_commands(project):
    """(argv, step env) for every shell line the workflow runs, in order."""
    for job in load_workflow(project / WORKFLOW)["jobs"].values():
        for step in job["steps"]:
            for line in step.get("run", "").splitlines():
                if line.strip():
                    yield shlex.split(line), step.get("env", {})


def why_it_cannot_run(project, argv):
    """None if ``argv`` can run in ``project``; otherwise what is missing."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    runtime = " ".join(pyproject["project"]["dependencies"])
    dev = " ".join(pyproject["dependency-groups"]["dev"])
    if argv == ["uv", "sync", "--locked"]:
        return None
    if argv[:2] == ["uv", "sync"]:
        return "installs without --locked: CI would test other versions than the uv.lock Vercel installs"
    if argv[:2] != ["uv", "run"]:
        return "runs something other than `uv sync --locked` / `uv run`: the project's venv would be bypassed"
    tool, *args = argv[2:]
    if tool in ("ruff", "pytest", "flask-vercel-doctor"):
        return None if tool in dev else f"{tool} is not in the dev dependency group"
    if tool == "python" and args[:1] == ["-m"]:
        module = project.joinpath(*args[1].split("."))
        exists = module.with_suffix(".py").is_file() or (module / "__main__.py").is_file()
        return None if exists else f"there is no module {args[1]} to run with -m"
    if tool == "flask" and args[:2] == ["--app", "index"] and (project / "index.py").is_file():
        if args[2:3] == ["db"]:
            migrations = "flask-migrate" in runtime and (project / "migrations" / "env.py").is_file()
            return None if migrations else "`flask db` needs Flask-Migrate and migrations/"
        return f"unknown flask command {args[2:]}"
    return f"this test does not know {tool!r}: teach why_it_cannot_run about it"


def test_the_workflow_runs_on_push_and_pull_requests_with_a_postgres_service(project):
    workflow = load_workflow(project / WORKFLOW)
    assert {"push", "pull_request"} <= set(workflow["on"])
    (job,) = workflow["jobs"].values()
    assert job["services"]["postgres"]["image"].startswith("postgres:")
    assert any(SERVICE_HOST in env.get("TEST_DATABASE_URL", "") for _, env in workflow_commands(project))


def test_every_command_the_workflow_runs_exists_in_the_project(project):
    problems = {" ".join(argv): why_it_cannot_run(project, argv) for argv, _ in workflow_commands(project)}
    assert {command: why for command, why in problems.items() if why} == {}


def test_only_migrations_projects_check_their_migrations_against_postgres(project, strategy):
    checks = [env for argv, env in workflow_commands(project) if argv[-2:] == ["db", "check"]]
    if strategy == "migrations":
        assert [SERVICE_HOST in env["DATABASE_URL"] for env in checks] == [True]
    else:
        assert checks == []


@pytest.mark.slow
def test_the_workflow_commands_pass_locally(render, venv_for, tmp_path, strategy):
    """What CI runs, run here: the shared venv stands in for `uv sync`, a SQLite file for the service.

    Its pytest step is also the template suite's run of each strategy's default project on Python 3.12.
    """
    project = tmp_path / "project"
    shutil.copytree(render(db_init_strategy=strategy), project)
    venv = venv_for("3.12")
    database_url = f"sqlite:///{tmp_path / 'ci.sqlite3'}"
    ran = []
    for argv, step_env in workflow_commands(project):
        if argv[:2] == ["uv", "sync"]:  # tests/test_lock.py runs it on a real lock
            continue
        env = {name: database_url if SERVICE_HOST in value else value for name, value in step_env.items()}
        # The project's suite in its default shape: its read-only cold starts must run, never skip.
        result = run(argv[2:], cwd=project, env=project_env(venv, REQUIRE_READ_ONLY_COLD_START="1", **env))
        if argv[2] == "pytest":
            assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout
        ran.append(argv[2])
    assert {"ruff", "pytest", "flask-vercel-doctor"} <= set(ran)


def test_an_install_that_ignores_the_lock_is_refused(project):
    assert "without --locked" in why_it_cannot_run(project, ["uv", "sync"])

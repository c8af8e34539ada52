"""A real `vercel build` of every strategy's project, and its output started as Vercel would start it."""

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from flask_vercel_doctor.guards import trusted_bytecode
from flask_vercel_doctor.vercel_runtime import ReadOnlyUnavailable, start_built_function
from template_tools.commands import run
from template_tools.environments import find_python
from template_tools.matrix import STRATEGIES
from template_tools.projects import run_project_tests
from template_tools.vercel import ToolsUnavailable, bundle_files, skip_or_fail, vercel_build

pytestmark = pytest.mark.slow


def printed(log, start):
    """Whether the build printed a line starting with ``start`` (the builder also echoes the script)."""
    return any(line.startswith(start) for line in log.splitlines())


# One build also carries the optional answers (its strategy shares the bearer-token check with the job).
FEATURES = {"init_endpoint": {"region": "fra1", "cron": True}}


@pytest.fixture(scope="module", params=STRATEGIES)
def built(request, render, tmp_path_factory):
    """One build per strategy, shared by this module's tests."""
    project = render(db_init_strategy=request.param, **FEATURES.get(request.param, {}))
    try:
        built = vercel_build(project, tmp_path_factory.mktemp("vercel-build") / "project")
    except ToolsUnavailable as reason:
        skip_or_fail(reason)
    return project, *built


def test_the_build_makes_one_python_function_and_publishes_no_source(built, record_property):
    _, _, func_dir, seconds, _ = built
    record_property("vercel_build_seconds", round(seconds, 1))
    config = json.loads((func_dir / ".vc-config.json").read_text())
    assert config["runtime"] == "python3.12"
    assert config["handler"] == "vc__handler__python.vc_handler"
    output = func_dir.parents[1]
    static = output / "static"
    assert not static.exists() or not [p for p in static.rglob("*") if p.suffix in (".py", ".toml", ".json")]
    assert "index.py" in config["filePathMap"]


def test_the_shipped_bundle_holds_bytecode_and_nothing_only_development_needs(built):
    _, copy, func_dir, _, log = built
    assert "Compiling Python bytecode..." in log
    assert not printed(log, "WARNING: no bytecode")
    files = bundle_files(func_dir, copy)
    assert any(path.endswith(".pyc") for path in files), "bytecode is on, yet the bundle holds no .pyc"
    development_only = ("tests/", ".github/", "README.md", ".copier-answers.yml", "_vendor/pip/")
    assert not [path for path in files if path.startswith(development_only)]


def test_the_projects_tests_stop_at_the_bytecode_a_local_build_leaves_beside_the_sources(
    built, venv_for, tmp_path
):
    project, built_copy, _, _, _ = built
    left_by_build = trusted_bytecode(built_copy)
    assert built_copy / "acme_notes" / "__pycache__" in left_by_build
    # A checkout with no bytecode of its own (other tests may have run this project), then the build's.
    checkout = shutil.copytree(project, tmp_path / "checkout", ignore=shutil.ignore_patterns("__pycache__"))
    for directory in left_by_build:
        shutil.copytree(directory, checkout / directory.relative_to(built_copy))
    result = run_project_tests(checkout, venv_for("3.12"), check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "a local `vercel build` left bytecode" in output
    assert re.search(r"rm -rf( \S+)* acme_notes/__pycache__", output), output


def test_the_built_function_starts_read_only_from_a_bare_interpreter(built, record_property):
    project, copy, func_dir, _, _ = built
    start = start_built_function(func_dir, project_root=copy, python=find_python("3.12"))
    try:
        with start as function:
            record_property("init_duration_ms", function.init_duration_ms)
            assert function.get("/api/health").json() == {"status": "ok"}
            page = function.get("/")
            # The function renders the page without public/: the stylesheet is the CDN's to serve.
            stylesheet = function.get("/static/app.css")
            assert function.alive()
    except ReadOnlyUnavailable as reason:
        skip_or_fail(reason)
    assert page.status == 200
    assert '<link rel="stylesheet" href="/static/app.css">' in page.body.decode()
    assert stylesheet.status == 404


def test_the_stylesheet_goes_to_the_cdn_and_not_into_the_function(built, record_property):
    project, copy, func_dir, _, _ = built
    static = func_dir.parents[1] / "static"
    listing = sorted(path.relative_to(static).as_posix() for path in static.rglob("*") if path.is_file())
    record_property("static_listing", " ".join(listing))
    assert {"static/app.css", "static/favicon.svg"} <= set(listing)
    assert (static / "static" / "app.css").read_bytes() == (project / "public/static/app.css").read_bytes()
    shipped = bundle_files(func_dir, copy)
    assert "acme_notes/templates/index.html" in shipped  # the page's template is the function's
    published = {Path(path).name for path in listing}
    assert not [path for path in shipped if path.startswith("public/") or Path(path).name in published]


def test_the_chosen_region_and_the_scheduled_job_reach_the_deployment(built):
    """`vercel build` (CLI 58.10) keeps vercel.json's top-level regions out of .vercel/output:
    `vercel deploy --prebuilt` sends the uploaded vercel.json's, as a Git deployment reads it."""
    project, copy, func_dir, _, _ = built
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert json.loads((copy / "vercel.json").read_text())["regions"] == [answers["region"]]
    output_config = json.loads((func_dir.parents[1] / "config.json").read_text())
    job = {"path": "/api/cron/check-database", "schedule": "0 5 * * *"}
    assert output_config.get("crons", []) == ([job] if answers["cron"] else [])


def imports_of_a_first_database_request(func_dir, copy, tmp_path):
    """(status, modules from bytecode, modules compiled from source) of a new instance's first query."""
    env = {"PYTHONVERBOSE": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'items.sqlite3'}"}
    start = start_built_function(func_dir, project_root=copy, python=find_python("3.12"), env=env)
    try:
        with start as function:
            status = function.get("/api/items").status  # the first database request loads SQLAlchemy
            imports = function.stderr() + function.logs()
    except ReadOnlyUnavailable as reason:
        skip_or_fail(reason)
    from_bytecode = re.findall(r"^# code object from '(.+)'$", imports, re.MULTILINE)
    from_source = re.findall(r"^# code object from ([^'].*)$", imports, re.MULTILINE)
    return status, from_bytecode, from_source


def test_the_function_imports_its_app_and_dependencies_from_bytecode(built, tmp_path):
    """A .pyc that Python cannot use (another version, a stale hash) means compiling at every cold start."""
    _, copy, func_dir, _, _ = built
    status, from_bytecode, from_source = imports_of_a_first_database_request(func_dir, copy, tmp_path)
    assert status in (200, 503)  # 503: tables the strategy has not created yet
    assert [path for path in from_bytecode if "/_vendor/sqlalchemy/orm/" in path]
    assert [path for path in from_bytecode if path.endswith("/acme_notes/db.cpython-312.pyc")]
    # The builder's own trampoline is the one module it leaves uncompiled.
    compiled_at_start = [path for path in from_source if not path.endswith("/vc__handler__python.py")]
    assert not compiled_at_start, f"{len(compiled_at_start)} modules compiled at cold start"


def test_a_plain_vercel_build_ships_bytecode_and_leaves_the_sources_and_the_developers_venv_alone(
    render, tmp_path
):
    """No VERCEL_PYTHON_* anywhere, as `vercel build` runs on a machine or in CI: the build step's bytecode.

    Vercel's runtime starts before the app can say where the bytecode is: its own modules compile.
    """
    project = render(db_init_strategy="lazy")
    try:
        copy, func_dir, _, log = vercel_build(
            project, tmp_path / "project", bytecode=False, developer_venv=True
        )
    except ToolsUnavailable as reason:
        skip_or_fail(reason)
    assert "Compiling Python bytecode..." not in log  # the builder's own switch was off
    assert printed(log, "bytecode: ")  # the build step's line
    files = bundle_files(func_dir, copy)
    assert [path for path in files if path.startswith("_bytecode/var/task/_vendor/flask/")]
    assert not [path for path in files if path.startswith(("_vendor/pip/", ".venv/"))]
    beside_sources = [p for p in copy.rglob("*.pyc") if not {".vercel", ".venv", "_bytecode"} & set(p.parts)]
    assert beside_sources == []
    pip = run([copy / ".venv/bin/python", "-m", "pip", "--version"], check=False)
    assert pip.returncode == 0, f"the build removed pip from the developer's .venv: {pip.stderr}"

    status, from_bytecode, from_source = imports_of_a_first_database_request(func_dir, copy, tmp_path)
    assert status == 200
    assert [path for path in from_bytecode if "/_bytecode/var/task/_vendor/sqlalchemy/orm/" in path]
    # Only what runs before the factory's first line can be no one's bytecode: the platform's own code.
    before_the_factory = (
        "/vc__handler__python.py",
        "/index.py",
        "/acme_notes/__init__.py",
        "/acme_notes/bytecode.py",
    )
    compiled_at_start = [
        path
        for path in from_source
        if "/_vendor/vercel_runtime/" not in path and not path.endswith(before_the_factory)
    ]
    assert not compiled_at_start, (
        f"{len(compiled_at_start)} modules compiled at cold start: {compiled_at_start[:5]}"
    )

"""What `copier copy` writes: the right files for the chosen strategy, and nothing else."""

import ast
import json
import py_compile
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from template_tools import REPO_ROOT
from template_tools.commands import run
from template_tools.matrix import STRATEGIES

COMMON_FILES = {
    ".github/dependabot.yml",
    ".github/workflows/ci.yml",
    ".github/workflows/template-update.yml",
    ".github/zizmor.yml",
    ".copier-answers.yml",
    ".env.example",
    ".gitignore",
    ".python-version",
    ".vercelignore",
    "README.md",
    "index.py",
    "pyproject.toml",
    "vercel.json",
    "acme_notes/__init__.py",
    "acme_notes/api.py",
    "acme_notes/bytecode.py",
    "acme_notes/config.py",
    "acme_notes/cors.py",
    "acme_notes/db.py",
    "acme_notes/engine.py",
    "acme_notes/errors.py",
    "acme_notes/limits.py",
    "acme_notes/models.py",
    "acme_notes/pages.py",
    "acme_notes/schema.py",
    "acme_notes/templates/index.html",
    "acme_notes/tokens.py",
    "public/static/app.css",
    "public/static/favicon.svg",
    "tests/__init__.py",
    "tests/conftest.py",
    "tests/test_api.py",
    "tests/test_config.py",
    "tests/test_cors.py",
    "tests/test_limits.py",
    "tests/test_pages.py",
    "tests/test_schema.py",
    "tests/test_tokens.py",
    "tests/test_vercel.py",
}
# What the optional features add (cron=true).
CRON_FILES = {"acme_notes/cron.py", "tests/test_cron.py"}
# Each strategy's schema.py and tests/test_schema.py differ; only migrations adds files.
STRATEGY_FILES = {
    "migrations": {
        "migrations/alembic.ini",
        "migrations/env.py",
        "migrations/script.py.mako",
        "migrations/versions/0001_create_items.py",
        "tests/test_revisions.py",
    },
    "lazy": set(),
    "init_endpoint": set(),
    "manual": set(),
}
STRATEGY_WORDS = {
    "migrations": ("flask_migrate", "alembic", "db upgrade"),
    "lazy": ("db.on_first_use(",),
    "init_endpoint": ("INIT_TOKEN", "/_init"),
    "manual": ("init-db", "init_db"),
}


def project_files(project):
    return {
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_each_strategy_renders_its_own_files_and_nothing_of_the_others(project, strategy):
    assert project_files(project) == COMMON_FILES | STRATEGY_FILES[strategy]


def test_no_other_strategy_is_mentioned_in_the_code(project, strategy):
    code = "\n".join(p.read_text() for p in project.rglob("*.py"))
    for other, words in STRATEGY_WORDS.items():
        if other != strategy:
            for word in words:
                assert word not in code, f"{strategy} project mentions {other}'s {word!r}"


STRATEGY_INTERFACE = {"init_app", "create_tables", "missing_schema_hint"}


def test_every_strategy_module_has_the_same_interface(project):
    tree = ast.parse((project / "acme_notes" / "schema.py").read_text())
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    defined |= {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}
    assert defined >= STRATEGY_INTERFACE


def test_only_the_strategy_files_know_the_strategy():
    """The factory, db, models, api, config and shared tests render the same for every strategy."""
    template = REPO_ROOT / "template"
    shared_code = [
        path
        for path in [
            *template.glob("{{package_name}}/**/*"),
            *template.glob("tests/*"),
            template / "index.py.jinja",
        ]
        if "db_init_strategy" not in path.name and path.is_file()
    ]
    assert shared_code
    assert [path.name for path in shared_code if "db_init_strategy" in path.read_text()] == []


def test_no_template_syntax_is_left_in_any_file(project):
    for name in project_files(project):
        text = (project / name).read_text()
        if name.startswith(".github/workflows/"):
            text = re.sub(r"\$\{\{ [^{}]+ \}\}", "", text)  # GitHub's expressions, not leftover Jinja
        if name.startswith("acme_notes/templates/"):
            # Flask's own Jinja, which Copier must pass through untouched: no Copier answer may be left.
            assert not re.search(r"\{\{ *(project_name|package_name|db_init_strategy|region|cron)\b", text)
            assert "raw %}" not in text, name
            continue
        for marker in ("{{", "{%", "{#", ".jinja"):
            assert marker not in text, f"{name} contains {marker!r}"


def test_every_python_file_compiles_and_ruff_is_clean(project, tmp_path):
    for path in project.rglob("*.py"):
        py_compile.compile(str(path), cfile=str(tmp_path / "out.pyc"), doraise=True)
    ruff = Path(sys.executable).with_name("ruff")
    run([ruff, "check", "--no-cache", "."], cwd=project)
    run([ruff, "format", "--check", "--no-cache", "."], cwd=project)


def test_index_py_is_the_only_entrypoint_and_defines_app_at_top_level(project):
    assert (project / "index.py").read_text() == "from acme_notes import create_app\n\napp = create_app()\n"
    for clash in ("app.py", "main.py", "server.py", "wsgi.py", "asgi.py", "api", "app"):
        assert not (project / clash).exists()


def test_vercel_json_builds_a_flask_function_without_legacy_keys(project):
    config = json.loads((project / "vercel.json").read_text())
    assert config["framework"] == "flask"
    assert "index.py" in config["functions"]
    assert not {"builds", "routes"} & config.keys()
    assert config["regions"] == ["iad1"]  # Vercel's own default, written down
    assert "crons" not in config  # scheduled jobs are off by default


def test_the_region_and_the_scheduled_job_reach_vercel_json_the_code_and_the_readme(render):
    project = render(db_init_strategy="lazy", region="fra1", cron=True)
    config = json.loads((project / "vercel.json").read_text())
    assert config["regions"] == ["fra1"]
    assert config["crons"] == [{"path": "/api/cron/check-database", "schedule": "0 5 * * *"}]
    assert project_files(project) == COMMON_FILES | CRON_FILES
    assert "cron.bp" in (project / "acme_notes" / "__init__.py").read_text()
    assert '"CRON_SECRET"' in (project / "acme_notes" / "config.py").read_text()
    assert "CRON_SECRET=" in (project / ".env.example").read_text()
    readme = (project / "README.md").read_text()
    assert "runs in **fra1**" in readme and "1. Set `CRON_SECRET`" in readme


def test_without_the_scheduled_job_nothing_of_it_is_rendered(project):
    assert not CRON_FILES & project_files(project)
    code = "\n".join(path.read_text() for path in project.rglob("*.py"))
    assert not re.search(r"\bcron\b", code, re.IGNORECASE), "a project without jobs mentions cron"
    assert "CRON_SECRET" not in (project / ".env.example").read_text()
    assert "--data cron=true" in (project / "README.md").read_text()


def test_pyproject_bounds_runtime_dependencies_and_keeps_dev_tools_out(project, strategy):
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert "build-system" not in pyproject  # a virtual project: Vercel ships only the sources
    for requirement in pyproject["project"]["dependencies"]:
        assert ">=" in requirement and "<" in requirement, requirement
    runtime = " ".join(pyproject["project"]["dependencies"])
    assert ("flask-migrate" in runtime) == (strategy == "migrations")
    dev = " ".join(pyproject["dependency-groups"]["dev"])
    for tool in ("pytest", "ruff", "vercel-runtime"):
        assert tool in dev and tool not in runtime
    build_steps = pyproject["tool"]["vercel"]["scripts"]["build"].strip().splitlines()
    migrate = '"$py" -W ignore::RuntimeWarning:runpy -m acme_notes.schema'
    assert (build_steps[-1] == migrate) == (strategy == "migrations")


@pytest.mark.parametrize("python_version", ["3.12", "3.13", "3.14"])
def test_the_python_version_reaches_vercel_and_the_project(render, python_version):
    project = render(db_init_strategy="lazy", python_version=python_version)
    assert (project / ".python-version").read_text().strip() == python_version
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == f">={python_version}"
    assert pyproject["tool"]["ruff"]["target-version"] == "py3" + python_version[2:]


def test_the_answers_file_records_every_answer_for_updates(project, strategy):
    answers = (project / ".copier-answers.yml").read_text()
    for line in (f"db_init_strategy: {strategy}", "package_name: acme_notes", "project_name: Acme Notes"):
        assert line in answers
    assert "_src_path:" in answers and "_commit:" in answers


def test_the_readme_explains_the_chosen_strategy_only(project, strategy):
    readme = (project / "README.md").read_text()
    assert f"strategy: **{strategy}**" in readme
    for other in STRATEGIES:
        if other != strategy:
            assert f"**{other}** —" not in readme


# Where a project was rendered from (`_src_path`, `_commit`) -> how it fetches its dev tools.
DOCTOR_SOURCES = {
    "gh:acme/copier-vercel-flask": "https://github.com/acme/copier-vercel-flask",
    "gl:acme/copier-vercel-flask": "https://gitlab.com/acme/copier-vercel-flask",
    "https://github.com/acme/copier-vercel-flask.git": "https://github.com/acme/copier-vercel-flask.git",
    "git+https://example.org/acme/template": "https://example.org/acme/template",
    "git@github.com:acme/copier-vercel-flask.git": "ssh://git@github.com/acme/copier-vercel-flask.git",
    "/home/dev/copier-vercel-flask": "file:///home/dev/copier-vercel-flask",
    "file:///srv/git/template.git": "file:///srv/git/template.git",
}
DOCTOR_REFS = {
    "v0.3.0": 'tag = "v0.3.0"',
    "v0.3.0-4-g0bbfc77": 'rev = "0bbfc77ab"',
    "0bbfc77": 'rev = "0bbfc77ab"',
}


def computed_value(name, **context):
    """A `when: false` value of copier.yml rendered as Copier renders it."""
    from jinja2.sandbox import SandboxedEnvironment

    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    environment = SandboxedEnvironment(extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])
    return environment.from_string(config[name]["default"]).render(**context)


@pytest.mark.parametrize("source, url", DOCTOR_SOURCES.items(), ids=DOCTOR_SOURCES)
def test_the_dev_tools_come_from_where_the_project_was_rendered_from(source, url):
    assert computed_value("template_git_url", _copier_answers={"_src_path": source}) == url


@pytest.mark.parametrize("commit, ref", DOCTOR_REFS.items(), ids=DOCTOR_REFS)
def test_the_dev_tools_are_pinned_to_the_release_or_the_commit(commit, ref):
    context = {"_copier_answers": {"_commit": commit}, "_copier_conf": {"vcs_ref_hash": "0bbfc77ab"}}
    assert computed_value("template_git_ref", **context) == ref


# Where the project's README and the message after an update send the reader for what changed.
CHANGELOG_LINKS = {
    "https://github.com/acme/copier-vercel-flask.git": "https://github.com/acme/copier-vercel-flask/blob/HEAD/CHANGELOG.md",
    "https://github.com/acme/copier-vercel-flask": "https://github.com/acme/copier-vercel-flask/blob/HEAD/CHANGELOG.md",
    "ssh://git@example.org/acme/template.git": "CHANGELOG.md in ssh://git@example.org/acme/template.git",
    "file:///srv/git/template.git": "CHANGELOG.md in file:///srv/git/template.git",
}


@pytest.mark.parametrize("url, changelog", CHANGELOG_LINKS.items(), ids=CHANGELOG_LINKS)
def test_the_changelog_is_a_link_on_github_and_named_elsewhere(url, changelog):
    assert computed_value("template_changelog", template_git_url=url) == changelog

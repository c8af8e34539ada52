"""What `copier copy` writes: the right files for the chosen strategy, and nothing else."""

import json
import py_compile
import re
import sys
import tomllib
from pathlib import Path

import pytest

from support import STRATEGIES, run

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
    "acme_notes/config.py",
    "acme_notes/db.py",
    "acme_notes/models.py",
    "doctor/__init__.py",
    "doctor/__main__.py",
    "doctor/findings.py",
    "doctor/import_guard.py",
    "doctor/static.py",
    "tests/__init__.py",
    "tests/conftest.py",
    "tests/test_api.py",
    "tests/test_cold_start.py",
    "tests/test_config.py",
    "tests/test_doctor.py",
    "tests/test_import_purity.py",
    "tests/test_no_build_bytecode.py",
    "tests/test_no_unfinished_update.py",
    "tests/vercel_platform.py",
}
STRATEGY_FILES = {
    "migrations": {
        "acme_notes/migrate.py",
        "migrations/alembic.ini",
        "migrations/env.py",
        "migrations/script.py.mako",
        "migrations/versions/0001_create_items.py",
        "tests/test_migrations.py",
    },
    "lazy": {"acme_notes/lazy_schema.py", "tests/test_lazy_schema.py"},
    "init_endpoint": {"acme_notes/init_endpoint.py", "tests/test_init_endpoint.py"},
    "manual": {"acme_notes/init_db.py", "tests/test_init_db.py"},
}
STRATEGY_WORDS = {
    "migrations": ("flask_migrate", "alembic", "db upgrade"),
    "lazy": ("lazy_schema", "ensure_tables"),
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
    # doctor/ names every database library on purpose: it checks that none loads at import.
    code = "\n".join(p.read_text() for p in project.rglob("*.py") if "doctor" not in p.parts)
    for other, words in STRATEGY_WORDS.items():
        if other != strategy:
            for word in words:
                assert word not in code, f"{strategy} project mentions {other}'s {word!r}"


def test_no_template_syntax_is_left_in_any_file(project):
    for name in project_files(project):
        text = (project / name).read_text()
        if name.startswith(".github/workflows/"):
            text = re.sub(r"\$\{\{ [^{}]+ \}\}", "", text)  # GitHub's expressions, not leftover Jinja
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
    assert (build_steps[-1] == '"$py" -m acme_notes.migrate') == (strategy == "migrations")


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

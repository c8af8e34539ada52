"""`copier update`: template fixes reach projects, user edits survive, conflicts are never silent.

Each test works on a throwaway git copy of this template with versions made up here:
v0.1.0 is the template as it is; v0.2.0 changes a line of api.py, the README and .env.example and
adds a question and a secret question; v0.3.0 changes the shipped migration revision. Another copy
retires Python 3.12: an update whose stored answer it was stops with what to choose.
"""

import shutil

import pytest

from template_tools.commands import commit_all, copier, git
from template_tools.matrix import STRATEGIES
from template_tools.projects import add_model_field, run_project_tests
from template_tools.repository import TemplateCopy

API = "template/{{package_name}}/api.py"
README = "template/README.md.jinja"
ENV_EXAMPLE = "template/.env.example.jinja"
REVISION = (
    "template/{% if db_init_strategy == 'migrations' %}migrations{% endif %}/versions/0001_create_items.py"
)
OLD_API_DOCSTRING = '"""The JSON API: a health check that never touches the database, and items that do."""'
NEW_API_DOCSTRING = '"""The JSON API: /api/health never touches the database; /api/items does."""'
NEW_QUESTIONS = """
vercel_region:
  type: str
  help: The Vercel region the function runs in.
  default: iad1

deploy_token:
  type: str
  help: A token for deploys, used at render time only.
  secret: true
  default: ""
"""
USER_ROUTE = """

@bp.get("/ping")
def ping():
    return {"pong": True}
"""
USER_ROUTE_TEST = """from index import app


def test_ping_answers_pong():
    assert app.test_client().get("/api/ping").get_json() == {"pong": True}
"""
# A setext heading: its `=======` underline must not look like a conflict to the project's guard.
USER_README_TEXT = "\nTeam notes\n=======\n\nOur on-call rota lives in the wiki.\n"
USER_ENV = "MY_API_KEY=kept-out-of-git\n"
SECRET = "tok-never-stored-3141"


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    template = TemplateCopy(tmp_path_factory.mktemp("template"))
    template.release("v0.1.0")
    template.replace(API, OLD_API_DOCSTRING, NEW_API_DOCSTRING)
    template.replace(
        README, "## Deploy to Vercel\n", "## Deploy to Vercel\n\nRegion: `{{ vercel_region }}`.\n"
    )
    template.replace(
        ENV_EXAMPLE, "# ALLOW_SQLITE_ON_VERCEL=1\n", "# ALLOW_SQLITE_ON_VERCEL=1\n\n# LOG_LEVEL=INFO\n"
    )
    (template.path / "copier.yml").write_text((template.path / "copier.yml").read_text() + NEW_QUESTIONS)
    template.release("v0.2.0")
    template.replace(
        REVISION, '"""Create the items table.', '"""Create the items table (reworded in v0.3.0).'
    )
    template.release("v0.3.0")
    return template


@pytest.fixture(scope="session")
def rendered(template, tmp_path_factory):
    """A committed project per (strategy, version), rendered once; tests work on copies."""
    projects = {}

    def rendered(strategy, version):
        if (strategy, version) not in projects:
            project = tmp_path_factory.mktemp(f"{strategy}-{version}") / "acme-notes"
            copier("copy", "--defaults", f"--vcs-ref={version}", "--data=project_name=Acme Notes",
                   f"--data=db_init_strategy={strategy}", str(template.path), str(project))  # fmt: skip
            git(project, "init", "--quiet", "--initial-branch=main")
            commit_all(project, f"Render {version}")
            projects[strategy, version] = project
        return projects[strategy, version]

    return rendered


@pytest.fixture
def project_at(rendered, tmp_path):
    def project_at(strategy, version):
        project = tmp_path / "acme-notes"
        shutil.copytree(rendered(strategy, version), project, symlinks=True)
        return project

    return project_at


def files(project):
    """Every file's text by path, without git's own; the answers file without `_commit`."""
    found = {
        path.relative_to(project).as_posix(): path.read_text()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts
    }
    answers = found[".copier-answers.yml"].splitlines(keepends=True)
    found[".copier-answers.yml"] = "".join(line for line in answers if not line.startswith("_commit:"))
    return found


def append(path, text):
    path.write_text(path.read_text() + text)


def conflicted(project):
    return [name for name, text in files(project).items() if "\n<<<<<<< " in f"\n{text}"]


@pytest.fixture(scope="module")
def updated(rendered, tmp_path_factory):
    """A lazy project from v0.1.0 with typical user edits, committed, then updated to v0.2.0."""
    project = tmp_path_factory.mktemp("updated") / "acme-notes"
    shutil.copytree(rendered("lazy", "v0.1.0"), project, symlinks=True)
    append(project / "acme_notes" / "api.py", USER_ROUTE)
    (project / "tests" / "test_ping.py").write_text(USER_ROUTE_TEST)
    add_model_field(project, "done: Mapped[bool] = mapped_column(default=False)")
    readme = project / "README.md"
    title, rest = readme.read_text().split("\n", 1)
    readme.write_text(f"{title}\n{USER_README_TEXT}{rest}")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"flask>=3.1,<4"', '"flask>=3.1.1,<4"'))
    commit_all(project, "Our own changes")
    (project / ".env").write_text(USER_ENV)  # ignored by git, as .gitignore says
    before = files(project)
    result = copier("update", "--defaults", "--vcs-ref=v0.2.0", f"--data=deploy_token={SECRET}", cwd=project)
    return project, before, result


def test_an_update_brings_the_template_change(updated):
    project, _, result = updated
    assert NEW_API_DOCSTRING in (project / "acme_notes" / "api.py").read_text()
    assert "Region: `iad1`." in (project / "README.md").read_text()
    assert "# LOG_LEVEL=INFO" in (project / ".env.example").read_text()
    assert "_commit: v0.2.0" in (project / ".copier-answers.yml").read_text()
    assert "To finish:" in result.stdout + result.stderr  # _message_after_update


def test_an_update_keeps_every_user_edit_without_conflicts(updated):
    project, before, _ = updated
    after = files(project)
    assert after["acme_notes/api.py"].endswith(USER_ROUTE)
    assert after["tests/test_ping.py"] == USER_ROUTE_TEST
    assert "done: Mapped[bool] = mapped_column(default=False)" in after["acme_notes/models.py"]
    assert USER_README_TEXT in after["README.md"]
    assert '"flask>=3.1.1,<4"' in after["pyproject.toml"]
    assert after[".env"] == USER_ENV
    assert conflicted(project) == []
    assert not [name for name in after if name.endswith(".rej")]
    assert {name for name in before if name not in after} == set()


def test_a_new_question_gets_its_default_and_a_secret_is_never_stored(updated):
    project, _, _ = updated
    answers = (project / ".copier-answers.yml").read_text()
    assert "vercel_region: iad1" in answers
    assert "deploy_token" not in answers
    assert not [name for name, text in files(project).items() if SECRET in text]


@pytest.mark.slow
def test_the_updated_project_passes_its_own_tests(updated, venv_for):
    project, _, _ = updated
    result = run_project_tests(project, venv_for("3.12"))
    assert " passed" in result.stdout and "failed" not in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_updating_an_untouched_project_equals_a_fresh_render(template, rendered, project_at, strategy):
    project = project_at(strategy, "v0.1.0")
    copier("update", "--defaults", "--vcs-ref=v0.2.0", cwd=project)
    assert files(project) == files(rendered(strategy, "v0.2.0"))


@pytest.mark.parametrize("conflict", ["inline", "rej", "rej-ignored"])
def test_a_conflict_exits_0_but_the_projects_tests_name_the_file(project_at, venv_for, conflict):
    project = project_at("lazy", "v0.1.0")
    if conflict == "rej-ignored":  # a .gitignore that hides Copier's leftovers (Copier issue #2668)
        append(project / ".gitignore", "*.rej\n")
    api = project / "acme_notes" / "api.py"
    api.write_text(api.read_text().replace(OLD_API_DOCSTRING, '"""Our API, our words."""'))
    commit_all(project, "Reword the API docstring")
    mode = conflict.removesuffix("-ignored")
    result = copier("update", "--defaults", "--vcs-ref=v0.2.0", f"--conflict={mode}", cwd=project)
    assert result.returncode == 0  # Copier's own verdict: hence the guard
    leftover = "acme_notes/api.py" if mode == "inline" else "acme_notes/api.py.rej"
    assert (project / leftover).exists() and (mode == "rej" or conflicted(project) == [leftover])
    if conflict == "rej-ignored":  # git itself no longer shows it, the way a user would look for it
        assert leftover not in git(project, "status", "--porcelain", "--untracked-files=all")
        assert leftover not in git(project, "ls-files", "--others", "--exclude-standard")
    suite = run_project_tests(project, venv_for("3.12"), check=False)
    assert suite.returncode != 0
    guard_says = (suite.stdout + suite.stderr).split("UsageError: ")[-1]
    assert "`copier update`" in guard_says and f" {leftover}" in guard_says


def test_applied_revisions_and_env_files_stay_the_users(template, rendered, project_at):
    project = project_at("migrations", "v0.1.0")
    revision = project / "migrations" / "versions" / "0001_create_items.py"
    shipped = revision.read_text()
    (project / ".env").write_text(USER_ENV)
    copier("update", "--defaults", cwd=project)  # to the latest version, v0.3.0
    assert "_commit: v0.3.0" in (project / ".copier-answers.yml").read_text()
    assert revision.read_text() == shipped
    fresh = rendered("migrations", "v0.3.0") / "migrations" / "versions" / "0001_create_items.py"
    assert "reworded in v0.3.0" in fresh.read_text()  # new projects get the new text; this one keeps history
    assert (project / ".env").read_text() == USER_ENV


# A switch leaves a fresh render of the new strategy plus the user's files (asserted for every pair):
# its suite runs once per destination, on a cycle through the strategies, each leaving one too.
SWITCHES_WHOSE_SUITE_RUNS = {(old, STRATEGIES[(i + 1) % len(STRATEGIES)]) for i, old in enumerate(STRATEGIES)}


@pytest.mark.slow
@pytest.mark.parametrize(
    "old, new",
    [pytest.param(old, new, id=f"{old}-to-{new}") for old in STRATEGIES for new in STRATEGIES if old != new],
)
def test_switching_strategy_swaps_its_files_and_keeps_user_edits(rendered, project_at, venv_for, old, new):
    project = project_at(old, "v0.3.0")
    append(project / "acme_notes" / "api.py", USER_ROUTE)
    (project / "tests" / "test_ping.py").write_text(USER_ROUTE_TEST)
    commit_all(project, "Our own route")
    copier("update", "--defaults", f"--data=db_init_strategy={new}", cwd=project)
    after, fresh = files(project), files(rendered(new, "v0.3.0"))
    assert set(after) - set(fresh) == {"tests/test_ping.py"}
    assert set(fresh) - set(after) == set()
    assert after["acme_notes/api.py"] == fresh["acme_notes/api.py"] + USER_ROUTE
    assert {
        name: text for name, text in after.items() if name not in ("acme_notes/api.py", "tests/test_ping.py")
    } == {name: text for name, text in fresh.items() if name != "acme_notes/api.py"}
    if (old, new) in SWITCHES_WHOSE_SUITE_RUNS:
        result = run_project_tests(project, venv_for("3.12"))
        assert " passed" in result.stdout and "failed" not in result.stdout


# Python 3.12 retired the way README.md says (Retired answers): the choice stays, disabled with its reason.
RETIRED = "Vercel no longer runs Python 3.12: choose 3.13 or 3.14 (--data python_version=3.13)"


@pytest.fixture(scope="module")
def retiring(tmp_path_factory):
    """This template as v0.1.0; v0.2.0 retires Python 3.12 by the policy; v0.2.1, on a branch of v0.1.0,
    deletes the choice and defaults to 3.13 whatever the stored answer (copier.yml before the policy);
    and a project on 3.12 rendered from v0.1.0."""
    template = TemplateCopy(tmp_path_factory.mktemp("retiring") / "template")
    template.release("v0.1.0")
    template.replace("copier.yml", "default('3.12')", "default('3.13')")
    template.replace(
        "copier.yml", '    "3.12": "3.12"\n', f'    "3.12": {{value: "3.12", validator: "{RETIRED}"}}\n'
    )
    template.release("v0.2.0")
    git(template.path, "switch", "--quiet", "--create", "deleted", "v0.1.0")
    template.replace("copier.yml", "\"{{ python_version | default('3.12') }}\"", '"3.13"')
    template.replace("copier.yml", '    "3.12": "3.12"\n', "")
    template.release("v0.2.1")
    project = tmp_path_factory.mktemp("on-3.12") / "acme-notes"
    copier("copy", "--defaults", "--vcs-ref=v0.1.0", "--data=project_name=Acme Notes",
           "--data=python_version=3.12", str(template.path), str(project))  # fmt: skip
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "Render v0.1.0 on Python 3.12")
    return template, project


def test_an_update_whose_answer_was_retired_stops_with_what_to_choose_and_changes_nothing(retiring, tmp_path):
    _, rendered = retiring
    project = shutil.copytree(rendered, tmp_path / "acme-notes", symlinks=True)
    result = copier("update", "--defaults", "--vcs-ref=v0.2.0", cwd=project, check=False)
    assert result.returncode == 1
    assert (
        result.stderr.strip().splitlines()[-1]
        == f"ValueError: Invalid choice for 'python_version': {RETIRED}"
    )
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""
    assert (project / ".python-version").read_text() == "3.12\n"
    assert "_commit: v0.1.0" in (project / ".copier-answers.yml").read_text()
    # The user chooses, explicitly: the update goes ahead.
    copier("update", "--defaults", "--vcs-ref=v0.2.0", "--data=python_version=3.13", cwd=project)
    assert (project / ".python-version").read_text() == "3.13\n"
    assert "python_version: '3.13'" in (project / ".copier-answers.yml").read_text()
    assert 'target-version = "py313"' in (project / "pyproject.toml").read_text()


def test_a_new_project_cannot_pick_a_retired_choice(retiring, tmp_path):
    template, _ = retiring
    destination = tmp_path / "acme-notes"
    answers = ["--data=project_name=Acme Notes", "--data=python_version=3.12"]
    result = copier("copy", "--defaults", "--vcs-ref=v0.2.0", *answers, str(template.path), str(destination),
                    check=False)  # fmt: skip
    assert result.returncode == 1 and RETIRED in result.stderr
    assert not destination.exists()


def test_without_the_policy_copier_would_rewrite_the_project_without_a_word(retiring, tmp_path):
    """Why the policy exists: Copier replaces a stored answer that is no longer a choice with the default."""
    _, rendered = retiring
    project = shutil.copytree(rendered, tmp_path / "acme-notes", symlinks=True)
    result = copier("update", "--defaults", "--vcs-ref=v0.2.1", cwd=project)
    assert result.returncode == 0 and "python_version" not in result.stderr
    assert (project / ".python-version").read_text() == "3.13\n"

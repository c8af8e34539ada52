"""Projects rendered from a real earlier release of this repository update to the release under test.

The repository's own history in a bare clone, tagged here as CHANGELOG.md says (the earlier release
at the commit its entry records, the newest release at this checkout), rendered through a ``file://``
URL as a user's project would be: `copier check-update` tells each state; the update removes what the
template moved or dropped, keeps the user's edits, conflicts nowhere, and leaves a project that passes
its own tests. The README's first command renders from a clone's ``origin``, or from its path when it
has none, and then says how to make the project updatable from anywhere.
"""

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from template_tools import REPO_ROOT
from template_tools.changelog import Changelog
from template_tools.commands import COPIER, commit_all, copier, git, git_env, run
from template_tools.matrix import STRATEGIES
from template_tools.projects import run_project_tests
from template_tools.repository import released_history

CHANGELOG = Changelog.read()
# Where projects rendered before there were tags sit: before the strategy modules got one shape.
EARLIER_RELEASE = CHANGELOG.release("0.2.0")
CURRENT_RELEASE = CHANGELOG.releases[0]
USER_ROUTE = '\n\n@bp.get("/ping")\ndef ping():\n    return {"pong": True}\n'
USER_TEST = (
    "from index import app\n\n\ndef test_ping_answers_pong():\n"
    '    assert app.test_client().get("/api/ping").get_json() == {"pong": True}\n'
)
# The template's repository as a user's clone names it; git serves it from the bare clone here.
REPOSITORY_URL = "https://example.invalid/acme/copier-vercel-flask.git"
LOCAL_SOURCE_WARNING = "a path on this machine, so `copier update` works here and nowhere else"


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    releases = {EARLIER_RELEASE.tag: EARLIER_RELEASE.recorded_commit, CURRENT_RELEASE.tag: "HEAD"}
    return released_history(tmp_path_factory.mktemp("history"), releases)


def rendered_files(project):
    return {
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file() and not {".git", "__pycache__"} & set(path.relative_to(project).parts)
    }


def check_update(project, env=None):
    """What `copier check-update` tells the user, as printed."""
    return copier("check-update", cwd=project, env=env).stdout.strip()


def newer_release_available(current, latest):
    return f"New template version available.\nCurrent version is {current}, latest version is {latest}."


@dataclass
class Updated:
    project: Path
    fresh: Path  # the same answers rendered at the current release
    files_before: set
    check_before: str
    check_after: str
    update_output: str


@pytest.fixture(scope="module", params=STRATEGIES)
def updated(request, history, tmp_path_factory):
    """A project rendered at the earlier release, edited and committed by its user, then updated."""
    strategy = request.param
    work = tmp_path_factory.mktemp(f"history-{strategy}")
    project, fresh = work / "acme-notes", work / "fresh"
    answers = ["--data=project_name=Acme Notes", f"--data=db_init_strategy={strategy}"]
    copier("copy", "--defaults", f"--vcs-ref={EARLIER_RELEASE.tag}", *answers, history, str(project))
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "Render the earlier release")
    files_before = rendered_files(project)
    api = project / "acme_notes" / "api.py"
    api.write_text(api.read_text() + USER_ROUTE)
    (project / "tests" / "test_ping.py").write_text(USER_TEST)
    commit_all(project, "Our own route")
    check_before = check_update(project)
    result = copier("update", "--defaults", cwd=project)
    check_after = check_update(project)
    copier("copy", "--defaults", f"--vcs-ref={CURRENT_RELEASE.tag}", *answers, history, str(fresh))
    return Updated(project, fresh, files_before, check_before, check_after, result.stdout + result.stderr)


def test_check_update_tells_an_earlier_release_from_the_newest(updated):
    assert updated.check_before == newer_release_available(EARLIER_RELEASE.version, CURRENT_RELEASE.version)
    assert updated.check_after == "Project is up-to-date!"


def test_the_update_reaches_the_current_release_and_says_where_its_changes_are_listed(updated, history):
    answers = (updated.project / ".copier-answers.yml").read_text()
    assert f"_commit: {CURRENT_RELEASE.tag}" in answers
    assert f"to copier-vercel-flask\n{CURRENT_RELEASE.tag}. What changed since" in updated.update_output
    assert f"CHANGELOG.md in {history}" in updated.update_output
    readme = (updated.project / "README.md").read_text()
    assert f"rendered from copier-vercel-flask **{CURRENT_RELEASE.tag}**" in readme


def test_moved_and_dropped_files_are_gone_and_nothing_is_left_behind(updated):
    assert rendered_files(updated.project) == rendered_files(updated.fresh) | {"tests/test_ping.py"}
    assert not (updated.project / "doctor").exists()  # the doctor is a dev dependency now
    assert updated.files_before - rendered_files(updated.fresh), "the earlier release had files since dropped"


def test_the_update_conflicts_nowhere_and_keeps_the_users_edits(updated):
    project, fresh = updated.project, updated.fresh
    assert git(project, "diff", "--name-only", "--diff-filter=U").strip() == ""
    for path in rendered_files(project):
        text = (project / path).read_text()
        assert "<<<<<<< " not in text and not path.endswith(".rej"), path
    api = (project / "acme_notes" / "api.py").read_text()
    assert api == (fresh / "acme_notes" / "api.py").read_text() + USER_ROUTE
    unchanged = rendered_files(fresh) - {"acme_notes/api.py", ".copier-answers.yml"}
    assert {p for p in unchanged if (project / p).read_text() != (fresh / p).read_text()} == set()


@pytest.mark.slow
def test_the_updated_project_passes_its_own_tests(updated, venv_for):
    result = run_project_tests(updated.project, venv_for("3.12"))
    assert " passed" in result.stdout and "failed" not in result.stdout


def readme_render_command():
    """The README's first command, its Copier part run by this suite's Copier (up to `../acme-notes`)."""
    readme = (REPO_ROOT / "README.md").read_text()
    line = next(line for line in readme.splitlines() if " copier copy " in line)
    render = re.search(r"uv tool run copier (copy .*? \.\./acme-notes)", line)
    assert render, f"the README's first command changed shape: {line}"
    return f'"{COPIER}" {render[1]}'


@pytest.fixture
def clone(history, tmp_path):
    """A user's clone of the template, its `origin` the repository's URL (git serves it from ``history``)."""
    config = tmp_path / "gitconfig"
    config.write_text(f'[url "{history}"]\n\tinsteadOf = {REPOSITORY_URL}\n')
    env = {"GIT_CONFIG_GLOBAL": str(config)}
    clone = tmp_path / "copier-vercel-flask"
    run(["git", "clone", "--quiet", REPOSITORY_URL, clone], env=git_env(**env))
    return clone, env


def test_the_readme_renders_the_newest_release_from_the_clones_origin(clone):
    clone, env = clone
    result = run(["bash", "-c", readme_render_command()], cwd=clone, env=git_env(**env))
    project = clone.parent / "acme-notes"
    answers = (project / ".copier-answers.yml").read_text()
    assert f"_src_path: {REPOSITORY_URL}\n" in answers and f"_commit: {CURRENT_RELEASE.tag}\n" in answers
    doctor = f'flask-vercel-doctor = {{ git = "{REPOSITORY_URL}", tag = "{CURRENT_RELEASE.tag}", subdirectory'
    assert doctor in (project / "pyproject.toml").read_text()
    assert f"from\ncopier-vercel-flask {CURRENT_RELEASE.tag}." in result.stderr
    assert "writes uv.lock: commit it" in result.stderr
    assert LOCAL_SOURCE_WARNING not in result.stderr
    assert check_update(project, env) == "Project is up-to-date!"


def test_a_clone_without_a_remote_renders_from_its_path_and_says_which_two_lines_make_it_updatable(clone):
    clone, env = clone
    git(clone, "remote", "remove", "origin")
    result = run(["bash", "-c", readme_render_command()], cwd=clone, env=git_env(**env))
    project = clone.parent / "acme-notes"
    answers = project / ".copier-answers.yml"
    assert f"_src_path: {clone}\n" in answers.read_text()
    message = " ".join(result.stderr.split())
    assert f".copier-answers.yml records the template as {clone}, {LOCAL_SOURCE_WARNING}" in message
    pyproject_line = f'flask-vercel-doctor = {{ git = "<URL>", tag = "{CURRENT_RELEASE.tag}", subdirectory'
    assert ".copier-answers.yml _src_path: <URL>" in message and pyproject_line in message
    # Following the message, with the repository's URL, makes the project updatable from anywhere.
    answers.write_text(answers.read_text().replace(f"_src_path: {clone}", f"_src_path: {REPOSITORY_URL}"))
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        re.sub(r'git = "file://[^"]+"', f'git = "{REPOSITORY_URL}"', pyproject.read_text(), count=1)
    )
    shutil.rmtree(clone)  # the path the project was rendered from is gone, as on any other machine
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "Rendered, then pointed at the repository")
    assert check_update(project, env) == "Project is up-to-date!"
    assert copier("update", "--defaults", cwd=project, env=env).returncode == 0
    assert f'git = "{REPOSITORY_URL}"' in pyproject.read_text()

"""Projects rendered from a real earlier commit of this repository update to the template under test.

The repository's own history, in a bare clone with release tags made here, rendered through a
``file://`` URL as a user's project would be: the update must remove what the template moved or
dropped, keep the user's edits, conflict nowhere, and leave a project that passes its own tests.
"""

import pytest

from template_tools.commands import commit_all, copier, git
from template_tools.matrix import STRATEGIES
from template_tools.projects import run_project_tests
from template_tools.repository import released_history

# The template as it had landed before the strategy modules got one shape (doctor/ still in projects).
EARLIER_RELEASE = ("v0.2.0", "7663b7a1823b0a2ab3ad428e077bf2816d5f3f94")
CURRENT_RELEASE = "v0.3.0"
USER_ROUTE = '\n\n@bp.get("/ping")\ndef ping():\n    return {"pong": True}\n'
USER_TEST = (
    "from index import app\n\n\ndef test_ping_answers_pong():\n"
    '    assert app.test_client().get("/api/ping").get_json() == {"pong": True}\n'
)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    tag, commit = EARLIER_RELEASE
    return released_history(tmp_path_factory.mktemp("history"), {tag: commit, CURRENT_RELEASE: "HEAD"})


def rendered_files(project):
    return {
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file() and not {".git", "__pycache__"} & set(path.relative_to(project).parts)
    }


@pytest.fixture(scope="module", params=STRATEGIES)
def updated(request, history, tmp_path_factory):
    """A project rendered at the earlier release, edited and committed by its user, then updated."""
    strategy = request.param
    work = tmp_path_factory.mktemp(f"history-{strategy}")
    project, fresh = work / "acme-notes", work / "fresh"
    answers = ["--data=project_name=Acme Notes", f"--data=db_init_strategy={strategy}"]
    copier("copy", "--defaults", f"--vcs-ref={EARLIER_RELEASE[0]}", *answers, history, str(project))
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "Render the earlier release")
    before = rendered_files(project)
    api = project / "acme_notes" / "api.py"
    api.write_text(api.read_text() + USER_ROUTE)
    (project / "tests" / "test_ping.py").write_text(USER_TEST)
    commit_all(project, "Our own route")
    result = copier("update", "--defaults", cwd=project)
    copier("copy", "--defaults", f"--vcs-ref={CURRENT_RELEASE}", *answers, history, str(fresh))
    return project, fresh, before, result


def test_the_update_reaches_the_current_release(updated):
    project, _, _, _ = updated
    assert f"_commit: {CURRENT_RELEASE}" in (project / ".copier-answers.yml").read_text()


def test_moved_and_dropped_files_are_gone_and_nothing_is_left_behind(updated):
    project, fresh, before, _ = updated
    assert rendered_files(project) == rendered_files(fresh) | {"tests/test_ping.py"}
    assert not (project / "doctor").exists()  # the doctor is a dev dependency now
    assert before - rendered_files(fresh), "the earlier release must have had files this one dropped"


def test_the_update_conflicts_nowhere_and_keeps_the_users_edits(updated):
    project, fresh, _, result = updated
    assert result.returncode == 0
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
    project, _, _, _ = updated
    result = run_project_tests(project, venv_for("3.12"))
    assert " passed" in result.stdout and "failed" not in result.stdout

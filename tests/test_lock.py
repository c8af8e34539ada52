"""One lock for CI and Vercel: `uv.lock`, written by the project's first `uv sync` and committed.

No lock is rendered (it would conflict on every update); git and Vercel's upload keep the one the
project writes; CI installs it with `uv sync --locked`, which fails once pyproject.toml has outgrown
it. A real `vercel build` installs the committed lock as it is (an older Flask than a fresh
resolution picks) and never fetches the dev-only flask-vercel-doctor, even from a template
repository that is gone; without the lock the same build resolves anew, and fails on that source.
"""

import os
import shutil

import pytest

from template_tools.changelog import Changelog
from template_tools.commands import commit_all, copier, git, run
from template_tools.environments import UV, find_python
from template_tools.repository import TemplateCopy
from template_tools.vercel import REQUIRED, ToolsUnavailable, bundle_files, copy_as_uploaded, vercel_build
from template_tools.workflows import load_workflow

OLDER_FLASK = "3.1.0"  # within the project's bounds, older than what a fresh resolution picks
RELEASE = Changelog.read().releases[0].tag


def test_no_lock_is_rendered_and_neither_git_nor_vercels_upload_leaves_one_out(project, tmp_path):
    assert not (project / "uv.lock").exists()
    checkout = shutil.copytree(project, tmp_path / "checkout")
    (checkout / "uv.lock").write_text("version = 1\n")
    (checkout / ".env").write_text("SECRET=1\n")
    git(checkout, "init", "--quiet")
    ignored = run(["git", "check-ignore", "uv.lock", ".env"], cwd=checkout, check=False).stdout.split()
    assert ignored == [".env"]  # .gitignore does hide files: just never the lock
    assert (copy_as_uploaded(checkout, tmp_path / "uploaded") / "uv.lock").is_file()


def test_ci_installs_exactly_the_lock_and_caches_on_it(project):
    (job,) = load_workflow(project / ".github" / "workflows" / "ci.yml")["jobs"].values()
    assert [step["run"] for step in job["steps"] if step.get("run", "").startswith("uv sync")] == [
        "uv sync --locked"
    ]
    setup_uv = next(step for step in job["steps"] if step.get("uses", "").startswith("astral-sh/setup-uv@"))
    assert setup_uv["with"]["cache-dependency-glob"] == "uv.lock"


def test_the_readme_says_to_commit_the_lock(project):
    readme = (project / "README.md").read_text()
    assert "The first `uv sync` writes `uv.lock`: commit it" in readme
    assert "CI installs with `uv sync --locked`" in readme


def uv(project, *arguments, check=True):
    """uv in ``project`` as its developer runs it (not in this suite's venv), with a real Python 3.12."""
    env = {name: value for name, value in os.environ.items() if name != "VIRTUAL_ENV"}
    env.update(UV_PYTHON=find_python("3.12"), UV_PYTHON_DOWNLOADS="never")
    return run([UV, *arguments], cwd=project, env=env, check=check)


def locked_version(project, package):
    lock = (project / "uv.lock").read_text()
    return lock.split(f'\nname = "{package}"\nversion = "', 1)[1].split('"', 1)[0]


@pytest.fixture(scope="module")
def locked(tmp_path_factory):
    """A project rendered from a git release of this template (its doctor pinned there), locked with
    an older Flask than `uv lock` picks, installed with `uv sync --locked`, and committed."""
    work = tmp_path_factory.mktemp("lock")
    template = TemplateCopy(work / "template.git")
    template.release(RELEASE)
    project = work / "acme-notes"
    answers = ["--data=project_name=Acme Notes", "--data=db_init_strategy=lazy"]
    copier("copy", "--defaults", *answers, f"file://{template.path}", str(project))
    uv(project, "lock", "--quiet")
    newest_flask = locked_version(project, "flask")
    uv(project, "lock", "--quiet", f"--upgrade-package=flask=={OLDER_FLASK}")
    installed = uv(project, "sync", "--locked")  # as CI installs
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "Acme Notes, locked")
    return template, project, newest_flask, installed.stdout + installed.stderr


@pytest.mark.slow
def test_ci_installs_the_lock_and_refuses_one_that_pyproject_has_outgrown(locked, tmp_path):
    _, project, newest_flask, installed = locked
    assert newest_flask != OLDER_FLASK and f"flask=={OLDER_FLASK}" in installed
    assert "flask-vercel-doctor==" in installed  # the dev tools, from the template's git release
    checkout = shutil.copytree(project, tmp_path / "checkout", ignore=shutil.ignore_patterns(".venv"))
    pyproject = checkout / "pyproject.toml"
    flask = '    "flask>=3.1,<4",\n'
    pyproject.write_text(pyproject.read_text().replace(flask, flask + '    "requests>=2.32,<3",\n'))
    result = uv(checkout, "sync", "--locked", check=False)
    assert result.returncode != 0
    said = " ".join(result.stderr.split())
    assert "The lockfile at `uv.lock` needs to be updated, but `--locked` was provided" in said
    uv(checkout, "lock", "--quiet")  # what the user does: re-lock, and commit uv.lock with the change
    assert uv(checkout, "sync", "--locked", "--dry-run").returncode == 0


@pytest.mark.slow
def test_vercel_builds_the_committed_lock_and_never_fetches_the_dev_tools(locked, tmp_path):
    template, project, newest_flask, _ = locked
    gone = template.path.with_name("gone.git")
    template.path.rename(gone)  # the template's repository, where the doctor comes from, is unreachable
    try:
        built = vercel_build(project, tmp_path / "with-lock", doctor_under_test=False)
        without_lock = shutil.copytree(project, tmp_path / "no-lock", ignore=shutil.ignore_patterns(".venv"))
        (without_lock / "uv.lock").unlink()
        with pytest.raises(AssertionError) as resolved_anew:
            # An empty cache: the suite's may hold the doctor's checkout at this very commit already.
            vercel_build(without_lock, tmp_path / "without-lock", doctor_under_test=False, seeded_cache=False)
    except ToolsUnavailable as reason:
        if REQUIRED:
            pytest.fail(f"CI must run this test: {reason}")
        pytest.skip(str(reason))
    finally:
        gone.rename(template.path)
    copy, func_dir, _, log = built
    assert "Installing required dependencies from uv.lock" in log
    shipped = {path.split("/")[1] for path in bundle_files(func_dir, copy) if path.startswith("_vendor/")}
    assert f"flask-{OLDER_FLASK}.dist-info" in shipped and f"flask-{newest_flask}.dist-info" not in shipped
    assert not [name for name in shipped if "vercel_doctor" in name]
    # Without the lock the build resolves every dependency group again, so it must reach the doctor.
    assert str(template.path) in str(resolved_anew.value)

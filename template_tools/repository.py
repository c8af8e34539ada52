"""This template as Copier sees it: snapshots, throwaway git copies with versions, rendering."""

import shutil
from pathlib import Path

from . import REPO_ROOT
from .commands import commit_all, git, run

# What a Copier source needs: the questions, the template, what the rendered projects depend on, and
# the changelog its releases are made from.
TEMPLATE_PATHS = ("copier.yml", "template", "hooks", "doctor", "CHANGELOG.md")


def template_snapshot(destination):
    """The template's files (working tree, uncommitted changes included) in a plain directory.

    Copier renders a directory that is not a git repository as it is, without cloning it.
    """
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".venv")
    for name in TEMPLATE_PATHS:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
        elif source.is_file():
            shutil.copy2(source, destination / name)
    return destination


def render(template, destination, **answers):
    """Render ``template`` with Copier's API and ``--defaults``, as the CLI would; returns the project."""
    from copier import run_copy

    answers = {"project_name": "Acme Notes", **answers}
    run_copy(str(template), destination, data=answers, defaults=True, quiet=True)
    return Path(destination)


class TemplateCopy:
    """This template in a throwaway git repository, so a test can make up versions of it."""

    def __init__(self, path):
        self.path = Path(path)
        self.copy_files(self.path)
        git(self.path, "init", "--quiet", "--initial-branch=main")

    @staticmethod
    def copy_files(destination):
        """This checkout's template files, tracked or new (not ignored ones), as they are now."""
        listing = git(REPO_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--",
                      *TEMPLATE_PATHS)  # fmt: skip
        for name in filter(None, listing.split("\0")):
            source = REPO_ROOT / name
            if source.is_file():  # a tracked file deleted in the working tree is gone for the test too
                (destination / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination / name)

    def replace(self, name, old, new):
        """Edit ``name`` (relative to the repository root); ``old`` must occur in it exactly once."""
        path = self.path / name
        text = path.read_text()
        assert text.count(old) == 1, f"{old!r} is not in {name} exactly once"
        path.write_text(text.replace(old, new))

    def release(self, version):
        commit_all(self.path, f"Release {version}")
        git(self.path, "tag", version)


def history_clone(destination, *, keep_tags=False):
    """A clone of this repository's real history, this checkout's template committed on top.

    Without ``keep_tags`` the clone has no tag, so the caller decides what is released where.
    Returns the clone's directory.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    git(destination.parent, "clone", "--quiet", "--no-local", str(REPO_ROOT), str(destination))
    if not keep_tags:
        for tag in git(destination, "tag", "--list").split():
            git(destination, "tag", "--delete", tag)
    snapshot_working_tree(destination)
    return destination


def released_history(destination, releases):
    """A bare clone of this repository's real history with release tags, reachable as a ``file://`` URL.

    ``releases`` maps tags to commits; ``"HEAD"`` means this checkout as it is, uncommitted template
    changes included (committed on top of HEAD in the clone). The clone's own tags are dropped first:
    the caller's are the only releases. Returns the URL.
    """
    destination = Path(destination)
    work = history_clone(destination / "work")
    for tag, commit in releases.items():
        if not has_commit(work, commit):
            raise AssertionError(f"commit {commit} is not in this clone's history: clone with full history")
        git(work, "tag", tag, commit)
    bare = destination / "template.git"
    git(destination, "clone", "--quiet", "--bare", str(work), str(bare))
    return f"file://{bare}"


def has_commit(repository, revision):
    """Whether ``revision`` names a commit of ``repository``."""
    command = ["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"]
    return run(command, cwd=repository, check=False).returncode == 0


def snapshot_working_tree(work):
    """Commit this checkout's template files, as they are now, on top of ``work``'s HEAD."""
    for name in TEMPLATE_PATHS:
        if (work / name).is_dir():
            shutil.rmtree(work / name)
    TemplateCopy.copy_files(work)
    git(work, "add", "--all")
    if git(work, "status", "--porcelain").strip():
        git(work, "commit", "--quiet", "--no-verify", "--message", "The checkout under test")
    return git(work, "rev-parse", "HEAD").strip()

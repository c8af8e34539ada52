"""A `copier update` that conflicted exits 0: this test keeps the leftovers out of a commit."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Built, not written out, so this file never matches itself.
CONFLICT_OPENING = b"<" * 7 + b" "
CONFLICT_CLOSING = b">" * 7 + b" "
# Local state and tools' caches, skipped when the project is not a git repository.
NOT_PROJECT_FILES = {
    ".git",
    ".venv",
    "venv",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".vercel",
    "instance",
}


def project_files():
    """Tracked and untracked files but not ignored ones; without git, every file but local state."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
        )
    except FileNotFoundError:  # no git installed
        listing = None
    if listing and listing.returncode == 0:
        names = {name.decode() for name in listing.stdout.split(b"\0") if name}
        return sorted(ROOT / name for name in names if (ROOT / name).is_file())
    found = []
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = [name for name in subdirectories if name not in NOT_PROJECT_FILES]
        found += [Path(directory, name) for name in files]
    return sorted(found)


def conflict_lines(path):
    """Line numbers of conflict markers; a bare `=======` alone (a Markdown underline) is not one."""
    lines = path.read_bytes().splitlines()
    return [
        number
        for number, line in enumerate(lines, 1)
        if line.startswith((CONFLICT_OPENING, CONFLICT_CLOSING))
    ]


def unfinished_update():
    """What a `copier update` left to resolve, as a message for the user; None when nothing is."""
    files = project_files()
    marked = {path: conflict_lines(path) for path in files}
    conflicted = [f"{path.relative_to(ROOT)} (lines {lines})" for path, lines in marked.items() if lines]
    rejected = [str(path.relative_to(ROOT)) for path in files if path.suffix == ".rej"]
    problems = []
    if conflicted:
        problems.append(
            "conflict markers from `copier update` in " + ", ".join(conflicted) + ": edit each block between "
            "the markers to what you want and delete the marker lines"
        )
    if rejected:
        problems.append(
            "changes `copier update` could not apply in " + ", ".join(rejected) + ": apply each by hand to "
            "the file of the same name without .rej, then delete the .rej file"
        )
    return "; ".join(problems) + "; then run the tests again and commit." if problems else None


def test_no_update_is_left_unfinished():
    assert unfinished_update() is None, unfinished_update()

"""Two states of a checkout in which a project's tests would test the wrong code; found before they run.

- A local `vercel build` with bytecode on compiles the sources in place into "unchecked-hash" .pyc files
  (PEP 552): Python runs them without looking at the .py again, so after an edit, local runs and tests
  use the old code.
- A `copier update` that conflicted exits 0 and leaves conflict markers in files, or `*.rej` files with
  the changes it could not apply. Those may be hidden by .gitignore (Copier issue #2668), so every file is
  read, tracked, untracked or ignored, except local state (.git, venvs, caches, node_modules, .vercel).
"""

import os
from pathlib import Path

from .project import is_local_state

UNCHECKED_HASH = 0b01  # the .pyc header's flags: hash-based, source never checked
# Built, not written out, so that no source file of this package matches itself.
CONFLICT_MARKERS = (b"<" * 7, b">" * 7)
LARGEST_TEXT_FILE = 5 * 1024 * 1024  # bigger files are data, not something an update edits


def header_flags(path):
    with open(path, "rb") as pyc:
        header = pyc.read(8)
    return int.from_bytes(header[4:8], "little") if len(header) == 8 else None


def trusted_bytecode(root):
    """__pycache__ directories under ``root`` with unchecked-hash .pyc files, outside venvs and caches."""
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(
            name
            for name in subdirectories
            if name == "__pycache__" or not is_local_state(Path(directory, name))
        )
        if Path(directory).name == "__pycache__" and any(
            name.endswith(".pyc") and header_flags(Path(directory, name)) == UNCHECKED_HASH for name in files
        ):
            found.append(Path(directory))
    return found


def build_bytecode_left(root):
    """What to delete, as a message for the user; None when there is nothing."""
    if found := trusted_bytecode(root):
        directories = " ".join(str(path.relative_to(root)) for path in found)
        return (
            "a local `vercel build` left bytecode that Python runs instead of your edited sources; "
            f"delete it and run the tests again: rm -rf {directories}"
        )
    return None


def every_file(root):
    """Every file of the project, ignored ones included, outside local state."""
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(
            name for name in subdirectories if not is_local_state(Path(directory, name))
        )
        for name in sorted(files):
            yield Path(directory, name)


def conflict_lines(path):
    """Line numbers of conflict markers; a bare `=======` (a Markdown underline) is not one."""
    try:
        if path.stat().st_size > LARGEST_TEXT_FILE:
            return []
        lines = path.read_bytes().splitlines()
    except OSError:
        return []
    return [
        number
        for number, line in enumerate(lines, 1)
        if any(line == marker or line.startswith(marker + b" ") for marker in CONFLICT_MARKERS)
    ]


def unfinished_update(root):
    """What a `copier update` left to resolve, as a message for the user; None when nothing is."""
    root = Path(root)
    conflicted, rejected = [], []
    for path in every_file(root):
        if path.suffix == ".rej":
            rejected.append(str(path.relative_to(root)))
        elif lines := conflict_lines(path):
            conflicted.append(f"{path.relative_to(root)} (lines {', '.join(map(str, lines))})")
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

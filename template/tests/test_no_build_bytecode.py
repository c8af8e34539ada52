"""A local `vercel build` with bytecode on compiles your sources in place, and Python trusts the result.

The builder writes "unchecked-hash" .pyc files (PEP 552) next to the sources: Python runs them without
looking at the .py again, so after an edit, local runs and these tests would use the old code.
conftest.py stops at them before importing the app; this test keeps them out of CI too.
"""

import os
import py_compile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNCHECKED_HASH = 0b01  # the .pyc header's flags: hash-based, source never checked
# Installed packages and the builder's own venv: their bytecode is not made from files you edit.
NOT_YOUR_SOURCES = {".git", ".venv", "venv", ".vercel", "node_modules"}


def header_flags(path):
    with open(path, "rb") as pyc:
        header = pyc.read(8)
    return int.from_bytes(header[4:8], "little") if len(header) == 8 else None


def trusted_bytecode(root=ROOT):
    """__pycache__ directories under ``root`` holding unchecked-hash .pyc files."""
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(name for name in subdirectories if name not in NOT_YOUR_SOURCES)
        if Path(directory).name == "__pycache__" and any(
            name.endswith(".pyc") and header_flags(Path(directory, name)) == UNCHECKED_HASH for name in files
        ):
            found.append(Path(directory))
    return found


def build_bytecode_left():
    """What to delete, as a message for the user; None when there is nothing."""
    if found := trusted_bytecode():
        directories = " ".join(str(path.relative_to(ROOT)) for path in found)
        return (
            "a local `vercel build` left bytecode that Python runs instead of your edited sources; "
            f"delete it and run the tests again: rm -rf {directories}"
        )
    return None


def test_no_build_bytecode_is_left_beside_the_sources():
    assert build_bytecode_left() is None, build_bytecode_left()


def test_the_check_tells_build_bytecode_from_the_ordinary_kind(tmp_path):
    modes = {
        "built": py_compile.PycInvalidationMode.UNCHECKED_HASH,  # what the builder writes
        "ordinary": py_compile.PycInvalidationMode.TIMESTAMP,  # what Python writes on import
        "checked": py_compile.PycInvalidationMode.CHECKED_HASH,
    }
    for name, mode in modes.items():
        source = tmp_path / name / "module.py"
        source.parent.mkdir()
        source.write_text("VALUE = 1\n")
        py_compile.compile(str(source), invalidation_mode=mode)
    assert trusted_bytecode(tmp_path) == [tmp_path / "built" / "__pycache__"]

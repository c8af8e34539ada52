"""The interpreter that runs the project's code, and the variables Vercel gives a function.

The rule for ``python=None``: the project's own ``.venv/bin/python`` (or ``venv/``) when it exists;
else the running interpreter when it belongs to the project (its ``sys.prefix`` is inside the project)
or is a virtual environment that has Flask installed, as when the project's pytest runs the doctor;
else the doctor cannot run and says so (exit 2).
"""

import importlib.util
import os
import shutil
import sys
from pathlib import Path

from .findings import CouldNotRun

VENV_DIRECTORIES = (".venv", "venv")
# Set by Vercel for every function (values as in a production deployment); nothing else is invented.
VERCEL_VARIABLES = {
    "VERCEL": "1",
    "VERCEL_ENV": "production",
    "VERCEL_REGION": "iad1",
    "LANG": "C.UTF-8",
    "TZ": ":UTC",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def vercel_variables(root):
    return {**VERCEL_VARIABLES, "VERCEL_URL": f"{Path(root).name.lower()}.vercel.app"}


def project_python(root, python=None):
    """(interpreter path, how it was chosen) for the project at ``root``; raises CouldNotRun."""
    root = Path(root).resolve()
    if python:
        found = shutil.which(str(python))
        if not found:
            raise CouldNotRun(f"could not run: {python} is not an interpreter that can be started")
        return found, "given"
    for name in VENV_DIRECTORIES:
        candidate = root / name / "bin" / "python"
        if candidate.exists():
            return str(candidate), f"the project's {name}"
    prefix = Path(sys.prefix).resolve()
    if prefix.is_relative_to(root):
        return sys.executable, "the running interpreter (inside the project)"
    if sys.prefix != sys.base_prefix and importlib.util.find_spec("flask") is not None:
        return sys.executable, "the running virtual environment, which has Flask"
    raise CouldNotRun(
        f"could not run: no environment for {root}; create one (`uv sync`, or `python -m venv .venv` and "
        "install the requirements into it) or pass --python PATH (python=... from Python); "
        "--static-only checks without importing anything"
    )


def child_environment(root, tmp, env):
    """Only PATH, what Vercel sets and what the caller gives: none of the user's shell or .env."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        **vercel_variables(root),
        "TMPDIR": str(tmp),
        **(env or {}),
    }

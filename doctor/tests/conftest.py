"""Fixtures for the doctor's tests: the corpus, an interpreter with its dependencies, a snapshot of a tree."""

import os
from pathlib import Path

import pytest

from template_tools.environments import project_venv

pytest_plugins = ["pytester"]

# What the corpus projects import, plus what runs them the way Vercel and a project's tests do.
CORPUS_REQUIREMENTS = [
    "environs>=14,<16",
    "flask>=3.1,<4",
    "flask-sqlalchemy>=3.1,<4",
    "psycopg[binary]>=3.2,<4",
    "pydantic-settings>=2.6,<3",
    "pytest>=8.3,<10",
    "python-decouple>=3.8,<4",
    "python-dotenv>=1,<2",
    "vercel-runtime>=0.24,<0.25",
]


@pytest.fixture(scope="session")
def corpus_python():
    """Python 3.12 with the corpus' dependencies (built once, cached, shared by xdist workers)."""
    return str(project_venv("3.12", CORPUS_REQUIREMENTS) / "bin" / "python")


def tree_state(root):
    """Every path under ``root`` with its size, mtime and mode: any new, changed or deleted file shows."""
    state = {}
    for directory, subdirectories, files in os.walk(root):
        for name in subdirectories + files:
            path = Path(directory, name)
            status = path.lstat()
            state[path.relative_to(root).as_posix()] = (status.st_size, status.st_mtime_ns, status.st_mode)
    return state


@pytest.fixture
def untouched():
    """Call with a project's root: asserts at teardown that the test left it byte for byte as it was."""
    watched = {}

    def watch(root):
        watched[Path(root)] = tree_state(root)
        return Path(root)

    yield watch
    for root, before in watched.items():
        after = tree_state(root)
        assert after == before, (
            f"the doctor changed {root}: {sorted(set(after.items()) ^ set(before.items()))}"
        )

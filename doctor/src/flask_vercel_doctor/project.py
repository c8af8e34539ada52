"""A project on disk as Vercel's build sees it: its files, pyproject.toml, vercel.json and dependencies."""

import os
import re
from functools import cached_property
from pathlib import Path

from . import sources

# Directories that hold local state, tools or installed packages, never the project's own sources.
LOCAL_STATE = {
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".vercel",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".tox",
    ".nox",
    ".cache",
}
# Where Vercel's framework detection looks for Flask (the preset's detectors).
DEPENDENCY_FILES = ("requirements.txt", "pyproject.toml", "Pipfile")
FLASK_PATTERN = re.compile(r"[Ff]lask")


def is_local_state(directory):
    """A directory the doctor never reads: tools' state, caches, or a virtualenv under any name."""
    return directory.name in LOCAL_STATE or (directory / "pyvenv.cfg").exists()


def walk_files(root, *, skip=is_local_state):
    """Every file under ``root`` (relative POSIX paths, sorted) outside the directories ``skip`` rejects."""
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(name for name in subdirectories if not skip(Path(directory, name)))
        relative = Path(directory).relative_to(root)
        found += [(relative / name).as_posix() for name in files]
    return sorted(found)


class Project:
    def __init__(self, root):
        self.root = Path(root).resolve()

    @cached_property
    def files(self):
        return walk_files(self.root)

    @cached_property
    def python_files(self):
        """The .py files Vercel's builder considers: no hidden directories, caches or packages."""

        def skip(directory):
            return (
                directory.name.startswith(".")
                or is_local_state(directory)
                or directory.name == "site-packages"
            )

        return [name for name in walk_files(self.root, skip=skip) if name.endswith(".py")]

    @cached_property
    def _pyproject(self):
        path = self.root / "pyproject.toml"
        if not path.is_file():
            return {}, ""
        data, problem = sources.read_toml(path)
        return data or {}, problem

    @property
    def pyproject(self):
        return self._pyproject[0]

    @property
    def pyproject_problem(self):
        return self._pyproject[1]

    @cached_property
    def vercel_json(self):
        """vercel.json as a JsonFile, or None when the project has none."""
        path = self.root / "vercel.json"
        return sources.read_json(path) if path.is_file() else None

    @property
    def vercel_config(self):
        config = self.vercel_json.data if self.vercel_json else None
        return config if isinstance(config, dict) else {}

    @cached_property
    def flask_declared_in(self):
        """The dependency file in which Vercel's framework detection finds Flask, or None."""
        for name in DEPENDENCY_FILES:
            if FLASK_PATTERN.search(sources.read_text(self.root / name)):
                return name
        return None

    def source(self, relative):
        """The module's text as Python decodes it; raises sources.UnreadableSource."""
        return sources.read_python(self.root / relative)

    def line_of(self, relative, needle):
        """The first line of a text file containing ``needle``, 1 when none does."""
        for number, line in enumerate(sources.read_text(self.root / relative).splitlines(), start=1):
            if needle in line:
                return number
        return 1

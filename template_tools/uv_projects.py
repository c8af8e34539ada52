"""A rendered project driven the way its README drives it: `uv sync`, `uv add`, `uv run ...`.

Unlike the shared venvs of environments.py, the project gets its own `.venv` from its own
pyproject.toml, as its user's does. uv's cache is shared across tests and workers; Python is the
real interpreter of the version asked for (uv may not download one: there is no network for it).
"""

import os
from pathlib import Path

from .commands import run
from .environments import CACHE_DIR, find_python, uv_bin_dir

UV_CACHE = CACHE_DIR / "uv"
# What uv needs from this machine to reach the package index: its certificates, proxies and index.
NETWORK_SETTINGS = ("SSL_CERT_FILE", "SSL_CERT_DIR", "UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL")


class UvProject:
    def __init__(self, path, python_version="3.12"):
        self.path = Path(path)
        python = find_python(python_version)
        if python is None:
            raise RuntimeError(f"no Python {python_version} found on PATH or under pyenv")
        self.env = {
            "PATH": f"{uv_bin_dir()}:/usr/bin:/bin",  # uv and the system's tools, none of this suite's
            "HOME": os.environ.get("HOME", "/root"),
            "UV_CACHE_DIR": str(UV_CACHE),
            "UV_PYTHON": python,
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_LINK_MODE": "copy",  # the cache and the project may be on different file systems
            "UV_NO_PROGRESS": "1",
            "UV_COMPILE_BYTECODE": "1",  # read-only cold starts cannot write the bytecode they compile
            **{
                name: value
                for name, value in os.environ.items()
                if name in NETWORK_SETTINGS or name.lower() in ("http_proxy", "https_proxy", "no_proxy")
            },
        }

    @property
    def venv(self):
        return self.path / ".venv"

    @property
    def python(self):
        return self.venv / "bin" / "python"

    def shell(self, script, check=True, **env):
        """Run shell lines in the project as its user pastes them (bash, stopping at the first failure)."""
        command = ["bash", "-euo", "pipefail", "-c", script]
        return run(command, cwd=self.path, env={**self.env, **env}, check=check)

    def uv(self, *arguments, check=True, **env):
        return run(["uv", *arguments], cwd=self.path, env={**self.env, **env}, check=check)

    def sync(self):
        return self.uv("sync")

    def run(self, *command, check=True, **env):
        """``uv run COMMAND``: the project's venv, synced with its pyproject.toml first."""
        return self.uv("run", *command, check=check, **env)

"""Interpreters and virtual environments for rendered projects, cached and shared across test workers."""

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from . import REPO_ROOT
from .commands import run

DOCTOR = REPO_ROOT / "doctor"  # the flask-vercel-doctor package under test
CACHE_DIR = Path(os.environ.get("TEMPLATE_TEST_CACHE", REPO_ROOT / ".cache")).resolve()
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv") or "uv"


def find_python(version):
    """A real interpreter for ``version`` (pyenv's shims only work where a .python-version says so).

    The path of the executable itself, never a shim's: uv recreates a venv whose interpreter is not
    the one it is asked for.
    """
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"), reverse=True)
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True
        )
        if probe.returncode == 0:
            return probe.stdout.strip()
    return None


def project_requirements(project_dir):
    """The runtime and dev requirements a rendered project declares, installable here.

    The doctor, which a project takes from this template's repository (``[tool.uv.sources]``), is
    installed from this checkout instead, editable, so the tests run today's code.
    """
    pyproject = tomllib.loads((Path(project_dir) / "pyproject.toml").read_text())
    requirements = pyproject["project"]["dependencies"] + pyproject["dependency-groups"]["dev"]
    return [f"--editable={DOCTOR}" if r == "flask-vercel-doctor" else r for r in requirements]


def project_venv(python_version, requirements):
    """A venv with ``requirements``, built once and kept in the cache, safe under pytest-xdist."""
    python = find_python(python_version)
    if python is None:
        raise RuntimeError(f"no Python {python_version} found on PATH or under pyenv")
    key = hashlib.sha256("\n".join([python_version, *sorted(requirements)]).encode()).hexdigest()[:12]
    venv = CACHE_DIR / "venvs" / f"py{python_version}-{key}"
    ready = venv / ".ready"
    with locked(venv):
        if not ready.exists():
            shutil.rmtree(venv, ignore_errors=True)
            run([UV, "venv", "--quiet", "--python", python, str(venv)])
            # Compiled once here: project processes run with PYTHONDONTWRITEBYTECODE and would
            # otherwise compile Flask, SQLAlchemy and the driver from source at every start.
            install = [UV, "pip", "install", "--quiet", "--compile-bytecode"]
            run([*install, "--python", str(venv / "bin" / "python"), *requirements])
            ready.touch()
    return venv


@contextlib.contextmanager
def locked(path):
    """Hold an exclusive lock named after ``path`` (pytest-xdist workers share the cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f"{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def uv_bin_dir():
    """A directory holding only uv: on PATH it brings uv without this suite's venv and its python."""
    if not Path(UV).is_file():
        raise RuntimeError(f"uv is not installed here ({UV}): it comes with requirements-dev.txt")
    directory = CACHE_DIR / "uv-bin"
    with locked(directory):
        directory.mkdir(exist_ok=True)
        link = directory / "uv"
        if link.is_symlink() and link.readlink() != Path(UV):  # another checkout's uv, perhaps gone
            link.unlink()
        if not link.is_symlink():
            link.symlink_to(UV)
    return directory


def project_env(venv, **extra):
    """The environment a generated project's commands run in: its venv first, nothing of ours."""
    return {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), **extra}

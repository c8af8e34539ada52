"""Helpers shared by the template's tests: rendering, interpreters and project venvs."""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = Path(os.environ.get("TEMPLATE_TEST_CACHE", REPO_ROOT / ".cache"))
STRATEGIES = ("migrations", "lazy", "init_endpoint", "manual")
PYTHON_VERSIONS = ("3.12", "3.13")
DATABASES = ("sqlite", "postgres")
# The test matrix: parameter name -> (every value, the env var that narrows it, comma-separated).
MATRIX = {
    "strategy": (STRATEGIES, "TEST_STRATEGIES"),
    "python_version": (PYTHON_VERSIONS, "TEST_PYTHONS"),
    "database": (DATABASES, "TEST_DATABASES"),
}
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv") or "uv"


def matrix_selection(axis, chosen=None):
    """The values of ``axis`` to test: ``chosen`` (a CLI option), else its env var, else all."""
    every, variable = MATRIX[axis]
    if not chosen:
        chosen = [value for value in os.environ.get(variable, "").split(",") if value.strip()]
    values = {value.strip() for item in chosen for value in item.split(",")}
    unknown = sorted(values - set(every))
    if unknown:
        raise ValueError(f"unknown {axis} {', '.join(unknown)}: choose from {', '.join(every)}")
    return values or set(every)


def template_snapshot(destination):
    """copier.yml and template/ copied to a plain directory: Copier renders it without cloning git."""
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO_ROOT / "copier.yml", destination / "copier.yml")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO_ROOT / "template", destination / "template", ignore=ignore)
    return destination


def find_python(version):
    """A real interpreter for ``version`` (pyenv's shims only work where a .python-version says so)."""
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"), reverse=True)
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version)"], capture_output=True)
        if probe.returncode == 0:
            return str(candidate)
    return None


def project_requirements(project_dir):
    """The runtime and dev requirements a rendered project declares."""
    pyproject = tomllib.loads((Path(project_dir) / "pyproject.toml").read_text())
    return pyproject["project"]["dependencies"] + pyproject["dependency-groups"]["dev"]


def project_venv(python_version, requirements):
    """A venv with ``requirements``, built once and kept in the cache, safe under pytest-xdist."""
    python = find_python(python_version)
    if python is None:
        raise RuntimeError(f"no Python {python_version} found on PATH or under pyenv")
    key = hashlib.sha256("\n".join([python_version, *sorted(requirements)]).encode()).hexdigest()[:12]
    venv = CACHE_DIR / "venvs" / f"py{python_version}-{key}"
    ready = venv / ".ready"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            shutil.rmtree(venv, ignore_errors=True)
            run([UV, "venv", "--quiet", "--python", python, str(venv)])
            run([UV, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *requirements])
            ready.touch()
    return venv


def project_env(venv, **extra):
    """A minimal environment that runs a project's commands from ``venv``."""
    return {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), **extra}


def run(command, *, check=True, **kwargs):
    """Run a command; unless ``check`` is false, a failure raises with everything it printed."""
    kwargs.setdefault("timeout", 600)
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, command))} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result

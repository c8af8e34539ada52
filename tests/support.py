"""Helpers shared by the template's tests: rendering, interpreters and project venvs."""

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = Path(os.environ.get("TEMPLATE_TEST_CACHE", REPO_ROOT / ".cache")).resolve()
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
    with locked(venv):
        if not ready.exists():
            shutil.rmtree(venv, ignore_errors=True)
            run([UV, "venv", "--quiet", "--python", python, str(venv)])
            run([UV, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *requirements])
            ready.touch()
    return venv


@contextlib.contextmanager
def locked(path):
    """Hold an exclusive lock named after ``path`` (pytest-xdist workers share the cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f"{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def run(command, *, check=True, **kwargs):
    """Run a command; unless ``check`` is false, a failure raises with everything it printed."""
    kwargs.setdefault("timeout", 600)
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, command))} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


COPIER = Path(sys.executable).with_name("copier")
# Commits made by the tests, with an identity of their own whatever the machine's git config says.
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}


def git(directory, *arguments):
    return run(["git", *arguments], cwd=directory, env=GIT_ENV).stdout


def commit_all(directory, message):
    git(directory, "add", "--all")
    git(directory, "commit", "--quiet", "--no-verify", "--message", message)


def copier(*arguments, cwd=None, check=True):
    """The copier CLI as a user runs it: no --trust, nothing on stdin."""
    return run([COPIER, *arguments], cwd=cwd, check=check, env=GIT_ENV, stdin=subprocess.DEVNULL)


class TemplateCopy:
    """This template in a throwaway git repository, so a test can make up versions of it."""

    def __init__(self, path):
        self.path = Path(path)
        listing = git(
            REPO_ROOT,
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
            "copier.yml",
            "template",
            "hooks",
        )
        for name in filter(None, listing.split("\0")):
            source = REPO_ROOT / name
            if source.is_file():  # a tracked file deleted in the working tree is gone for the test too
                (self.path / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, self.path / name)
        git(self.path, "init", "--quiet", "--initial-branch=main")

    def replace(self, name, old, new):
        """Edit ``name`` (relative to the repository root); ``old`` must occur in it exactly once."""
        path = self.path / name
        text = path.read_text()
        assert text.count(old) == 1, f"{old!r} is not in {name} exactly once"
        path.write_text(text.replace(old, new))

    def release(self, version):
        commit_all(self.path, f"Release {version}")
        git(self.path, "tag", version)


def load_workflow(path):
    """A GitHub workflow file as a dict, its triggers under "on"."""
    workflow = yaml.safe_load(Path(path).read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads a bare `on:` as True
    return workflow


def project_env(venv, **extra):
    """The environment a generated project's commands run in: its venv first, nothing of ours."""
    return {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), **extra}


def run_project_tests(project, venv, *arguments, check=True):
    """The generated project's own pytest, run with the shared venv."""
    command = [venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *arguments]
    # The template's suite proves the read-only cold starts: they must run here, never skip.
    env = project_env(venv, REQUIRE_READ_ONLY_COLD_START="1")
    return run(command, cwd=project, env=env, check=check)

"""Vercel's CLI, offline: `vercel build` of a project, and what the built function ships; and the
project's build step run as Vercel's Python builder runs it."""

import hashlib
import json
import os
import shutil
import tempfile
import time
import tomllib
from pathlib import Path

from .commands import run
from .environments import CACHE_DIR, UV, find_python, locked, uv_bin_dir
from .projects import use_doctor_under_test

VERCEL_CLI_VERSION = "58.10.0"  # newer releases do not install on this machine's Node
REQUIRED = bool(os.environ.get("CI") or os.environ.get("REQUIRE_VERCEL_TOOLS"))
CLI_DIR = CACHE_DIR / "vercel-cli"
# The builder's uv cache (.vercel/python/cache), kept warm between builds.
UV_CACHE_SEED = CACHE_DIR / "vercel-python-cache"


class ToolsUnavailable(RuntimeError):
    """npm, uv or Python 3.12 is missing, or the CLI would not install."""


def skip_or_fail(reason):
    """In a test: skip for want of a tool, or fail where CI must run it (CI, REQUIRE_VERCEL_TOOLS)."""
    import pytest

    if REQUIRED:
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(str(reason))


def vercel_cli():
    """The `vercel` command, installed once with npm into the shared cache."""
    npm = shutil.which("npm")
    if npm is None:
        raise ToolsUnavailable("npm is not installed: Vercel's CLI comes from npm")
    ready = CLI_DIR / f".ready-{VERCEL_CLI_VERSION}"
    with locked(CLI_DIR):
        if not ready.exists():
            options = ["--exact", "--prefix", CLI_DIR, "--prefer-offline", "--no-audit", "--no-fund"]
            result = run([npm, "install", *options, f"vercel@{VERCEL_CLI_VERSION}"], check=False)
            if result.returncode != 0:
                raise ToolsUnavailable(f"npm could not install vercel@{VERCEL_CLI_VERSION}:\n{result.stderr}")
            ready.touch()
    return CLI_DIR / "node_modules" / ".bin" / "vercel"


def build_environment():
    """PATH with the CLI, uv and a real Python 3.12 only; a HOME whose CLI auth file stops retries."""
    python = find_python("3.12")
    if python is None or not Path(UV).is_file():
        raise ToolsUnavailable("`vercel build` needs uv and a Python 3.12 interpreter")
    tools = uv_bin_dir()  # the tools venv's python must stay hidden
    home = CACHE_DIR / "vercel-home"
    with locked(home):
        auth = home / ".local/share/com.vercel.cli/auth.json"
        auth.parent.mkdir(parents=True, exist_ok=True)
        auth.write_text('{"userId": "offline"}')  # no token: the CLI stays offline but skips ~6 s of retries
    left_out = ("VERCEL", "PYTHON", "VIRTUAL_ENV")  # the caller's venv and settings must not leak in
    env = {key: value for key, value in os.environ.items() if not key.startswith(left_out)}
    path = [vercel_cli().parent, tools, Path(python).parent, "/usr/local/bin", "/usr/bin", "/bin"]
    env.update(HOME=str(home), PATH=os.pathsep.join(map(str, path)))
    env.update(VERCEL_TELEMETRY_DISABLED="1", NO_UPDATE_NOTIFIER="1")
    return env


def copy_as_uploaded(project, destination):
    """Copy ``project`` without what its .vercelignore keeps from being uploaded to Vercel's build."""
    ignore_file = project / ".vercelignore"
    lines = ignore_file.read_text().splitlines() if ignore_file.exists() else []
    patterns = [line.strip().lstrip("/") for line in lines if line.strip() and not line.startswith("#")]
    ignored = {path for pattern in patterns for path in project.glob(pattern)}
    shutil.copytree(project, destination, ignore=lambda d, names: [n for n in names if Path(d, n) in ignored])
    return destination


def vercel_build(
    project,
    destination,
    *,
    bytecode=None,
    developer_venv=False,
    doctor_under_test=True,
    production=False,
    variables=None,
    seeded_cache=True,
):
    """Run `vercel build --yes` (``production``: `--prod`) in a copy of ``project`` as Vercel's remote
    build would receive it.

    A local `vercel build` reads the project's variables from .vercel/.env.<target>.local, where
    `vercel pull` saves them, system variables such as VERCEL_ENV included: ``variables`` go into
    both targets' files, each with its own VERCEL_ENV, and `--prod` picks which one the build sees.
    ``bytecode`` None builds as the project asks: vercel.json's build.env, which a build on Vercel
    receives but a local `vercel build` ignores: the switch goes into those files too.
    ``developer_venv`` adds a `python -m venv` .venv (with pip), as a local build in a checkout finds.
    ``doctor_under_test`` points the dev dependency at this checkout's doctor/; false builds the
    project's pyproject.toml (and uv.lock) as they are.
    ``seeded_cache`` starts uv from the suite's cache of earlier builds; false starts it empty, as a
    first build on Vercel does (nothing fetched before, a git source included, can then be reused).
    Returns (the built copy, its function dir, seconds, build log).
    """
    project = copy_as_uploaded(Path(project), Path(destination))
    if doctor_under_test:
        use_doctor_under_test(project)
    if developer_venv:
        run([find_python("3.12"), "-m", "venv", project / ".venv"])
    if bytecode is None:
        build_env = json.loads((project / "vercel.json").read_text()).get("build", {}).get("env", {})
        bytecode = build_env.get("VERCEL_PYTHON_COMPILEALL") == "1"
    env = build_environment()
    settings = project / ".vercel"
    settings.mkdir()
    for target in ("preview", "production"):
        pulled = {"VERCEL_ENV": target, **(variables or {})}
        if bytecode:
            pulled["VERCEL_PYTHON_COMPILEALL"] = "1"
        (settings / f".env.{target}.local").write_text("".join(f'{k}="{v}"\n' for k, v in pulled.items()))
    (settings / "project.json").write_text(
        json.dumps({"projectId": "prj_offline", "orgId": "team_offline", "settings": {"framework": "flask"}})
    )
    if seeded_cache and UV_CACHE_SEED.exists():
        shutil.copytree(UV_CACHE_SEED, settings / "python" / "cache")
    started = time.monotonic()
    vercel = env["PATH"].split(os.pathsep)[0] + "/vercel"
    target_flag = ["--prod"] if production else []
    result = run([vercel, "build", "--yes", *target_flag], cwd=project, env=env)
    seconds = time.monotonic() - started
    with locked(UV_CACHE_SEED):
        if seeded_cache and not UV_CACHE_SEED.exists():
            shutil.copytree(settings / "python" / "cache", UV_CACHE_SEED)
    functions = list((settings / "output" / "functions").glob("*.func"))
    assert len(functions) == 1, f"expected one function, got {functions}\n{result.stdout}\n{result.stderr}"
    return project, functions[0], seconds, result.stdout + result.stderr


def bundle_files(func_dir, project_root):
    """Every file the function ships, as {path in /var/task: size in bytes}."""
    config = json.loads((func_dir / ".vc-config.json").read_text())
    files = {p.relative_to(func_dir).as_posix(): p.stat().st_size for p in func_dir.rglob("*") if p.is_file()}
    for path, source in config["filePathMap"].items():
        files[path] = (project_root / source).stat().st_size
    return files


def build_venv(project):
    """The venv Vercel's builder makes for ``project``: `uv venv --seed`, then `uv sync --active --no-dev`.

    Made once per set of dependencies and kept in the cache, shared by pytest-xdist workers.
    """
    python = find_python("3.12")
    if python is None:
        raise ToolsUnavailable("the build venv needs a Python 3.12 interpreter")
    use_doctor_under_test(project)  # locking resolves the dev group's sources too
    key = hashlib.sha256(f"{python}\n{(Path(project) / 'pyproject.toml').read_text()}\nbytecode".encode())
    venv = CACHE_DIR / "vercel-build-venvs" / key.hexdigest()[:12]
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    with locked(venv):
        if not (venv / ".ready").exists():
            shutil.rmtree(venv, ignore_errors=True)
            run([UV, "venv", "--seed", "--quiet", "--python", python, venv], env=env)
            # --compile-bytecode: each build step's copy imports Flask and Alembic without compiling them.
            sync = [UV, "sync", "--active", "--no-dev", "--no-editable", "--compile-bytecode", "--quiet"]
            run(sync, cwd=project, env=env)
            (venv / ".ready").touch()
    return venv


def run_build_step(project, venv, **variables):
    """Run the project's `[tool.vercel.scripts] build` as the builder does: `sh -c`, in the project, with
    a fresh copy of the build venv active (each build gets its own, and the step removes pip from it),
    VERCEL=1 and ``variables``. Returns the finished process (exit code, log)."""
    scripts = tomllib.loads((Path(project) / "pyproject.toml").read_text())["tool"]["vercel"]["scripts"]
    with tempfile.TemporaryDirectory(prefix="build-", dir=venv.parent) as directory:  # hard links: same disk
        # Hard links: a copy in a moment, and removing pip from it leaves the cached venv whole.
        fresh = shutil.copytree(venv, Path(directory) / "venv", symlinks=True, copy_function=os.link)
        env = {
            "PATH": f"{fresh / 'bin'}:/usr/bin:/bin",
            "HOME": os.environ.get("HOME", "/root"),
            "VIRTUAL_ENV": str(fresh),
            "UV_PROJECT_ENVIRONMENT": str(fresh),
            "VERCEL": "1",
            "VERCEL_PYTHON_COMPILEALL": "1",  # vercel.json's build.env: no bytecode warning in the log
            **variables,
        }
        return run(["sh", "-c", scripts["build"]], cwd=project, env=env, check=False)

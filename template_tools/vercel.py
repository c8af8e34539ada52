"""Vercel's CLI, offline: `vercel build` of a project, and what the built function ships."""

import json
import os
import shutil
import time
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


def vercel_build(project, destination, *, bytecode=None, developer_venv=False):
    """Run `vercel build --yes` in a copy of ``project`` as Vercel's remote build would receive it.

    ``bytecode`` None builds as the project asks: vercel.json's build.env, which a build on Vercel
    receives. A local `vercel build` ignores build.env and reads the project's variables from
    .vercel/.env.preview.local, where `vercel pull` saves them: that is where the switch goes here.
    ``developer_venv`` adds a `python -m venv` .venv (with pip), as a local build in a checkout finds.
    Returns (the built copy, its function dir, seconds, build log).
    """
    project = copy_as_uploaded(Path(project), Path(destination))
    use_doctor_under_test(project)
    if developer_venv:
        run([find_python("3.12"), "-m", "venv", project / ".venv"])
    if bytecode is None:
        build_env = json.loads((project / "vercel.json").read_text()).get("build", {}).get("env", {})
        bytecode = build_env.get("VERCEL_PYTHON_COMPILEALL") == "1"
    env = build_environment()
    settings = project / ".vercel"
    settings.mkdir()
    if bytecode:
        (settings / ".env.preview.local").write_text('VERCEL_PYTHON_COMPILEALL="1"\n')
    (settings / "project.json").write_text(
        json.dumps({"projectId": "prj_offline", "orgId": "team_offline", "settings": {"framework": "flask"}})
    )
    if UV_CACHE_SEED.exists():
        shutil.copytree(UV_CACHE_SEED, settings / "python" / "cache")
    started = time.monotonic()
    result = run([env["PATH"].split(os.pathsep)[0] + "/vercel", "build", "--yes"], cwd=project, env=env)
    seconds = time.monotonic() - started
    with locked(UV_CACHE_SEED):
        if not UV_CACHE_SEED.exists():
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

"""The import pass: import the entrypoint in the project's interpreter, as a cold start on Vercel does.

The import runs on a copy of the project without its .env files (Vercel does not read them), with
only the variables Vercel sets plus the ones given, in a fresh process of the project's interpreter
(import_child.py, run by path). The copy is deleted afterwards and the project itself is never written
to: writes outside /tmp are refused as on Vercel's read-only disk and reported. An import that does not
finish within ``timeout`` seconds is stopped and reported where it was stuck.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import entrypoint as entrypoints
from .assets import PUBLIC, static_findings
from .environment import child_environment, project_python
from .findings import (
    IMPORT_FAILS,
    SLOW_IMPORT,
    SYNTAX_FIX,
    CouldNotRun,
    Finding,
    Report,
    error,
    merged,
    warning,
)
from .project import Project, is_local_state, walk_files

CHILD = Path(__file__).with_name("import_child.py")
DEFAULT_TIMEOUT = 30.0
# The import is slow when it takes this many times as long as `import flask` alone, measured in the same
# process (an app on Flask-SQLAlchemy 3.1 and SQLAlchemy 2.1 takes 3.5 to 4 times: it passes).
SLOW_FACTOR = 6
SLOW_WITHOUT_FLASK_MS = 1000  # for apps that do not use Flask
IMPORTTIME = re.compile(r"^import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)")
MARKER = "@@doctor: importing the entrypoint@@"


@dataclass
class ImportReport(Report):
    entrypoint: object = None  # the Entrypoint imported, None when Vercel would find none
    python: str = ""
    findings: list = field(default_factory=list)
    import_ms: float | None = None  # the entry module's import, measured in this run
    flask_ms: float | None = None  # `import flask` alone, same interpreter, same run
    loaded_modules: list = field(default_factory=list)  # top-level modules the import loaded
    largest_imports: list = field(default_factory=list)  # (module, ms), the costliest first
    app_type: str | None = None
    output: str = ""  # what the import printed, for a failing test


def check_import(project_root, *, python=None, env=None, timeout=DEFAULT_TIMEOUT, entrypoint=None):
    """Import the entrypoint Vercel would serve (or ``entrypoint``) and report what breaks or slows it.

    ``python``: the project's interpreter (see environment.project_python for the default);
    ``env``: variables to set besides Vercel's own, as in the project's settings on Vercel.
    Raises CouldNotRun when no interpreter can be found or started.
    """
    project = Project(project_root)
    if not project.root.is_dir():
        raise CouldNotRun(f"could not run: {project.root} is not a directory")
    if entrypoint is None:
        resolution = entrypoints.resolve(project)
        if not resolution.entrypoints:
            return ImportReport(findings=resolution.findings)
        entrypoint = resolution.entrypoint
    interpreter, _ = project_python(project.root, python)
    with tempfile.TemporaryDirectory(prefix="flask-vercel-doctor-") as scratch:
        return ImportRun(project, entrypoint, interpreter, Path(scratch), env, timeout).report()


class ImportRun:
    def __init__(self, project, entrypoint, python, scratch, env, timeout):
        self.project, self.entrypoint, self.python = project, entrypoint, python
        self.scratch, self.timeout = scratch, timeout
        self.copy = scratch / "project"
        self.tmp = scratch / "tmp"
        self.tmp.mkdir()
        self.env = child_environment(project.root, self.tmp, env)

    def report(self):
        copy_as_deployed(self.project.root, self.copy)
        before = snapshot(self.copy)
        result, stderr = self.run_child()
        report = ImportReport(self.entrypoint, self.python)
        report.output = stderr.partition(MARKER)[2]
        if result is None:
            report.findings = [self.did_not_finish(stderr)]
            return report
        report.import_ms, report.flask_ms = result["import_ms"], result["flask_ms"]
        report.loaded_modules = result["loaded_modules"]
        report.app_type = result["app_type"]
        report.largest_imports = largest_imports(report.output, own=top_level_names(self.project))
        report.output = "\n".join(line for line in report.output.splitlines() if not IMPORTTIME.match(line))
        findings = [*self.event_findings(result), *self.result_findings(result)]
        findings += static_findings(self.project, result.get("static_folders", []), self.at(None))
        findings += [
            self.created(name) for name in sorted(set(snapshot(self.copy).items()) - set(before.items()))
        ]
        findings += slow_import(report)
        report.findings = merged(findings)
        return report

    def run_python(self, arguments, cwd, timeout):
        try:
            process = subprocess.Popen(
                [self.python, "-B", *arguments],
                cwd=cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as reason:
            raise CouldNotRun(f"could not run: cannot start {self.python} ({reason})") from None
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
        return process.returncode, stdout.decode(errors="replace"), stderr.decode(errors="replace")

    def run_child(self):
        config = {
            "root": str(self.copy),
            "original_root": str(self.project.root),
            "file": self.entrypoint.file,
            "module": self.entrypoint.module,
            "variable": self.entrypoint.variable,
            "report": str(self.scratch / "report.json"),
            "stack": str(self.scratch / "stack.txt"),
            "timeout": self.timeout,
            "writable": ["/tmp", str(self.tmp)],
            "top_level": top_level_names(self.project),
        }
        config_path = self.scratch / "config.json"
        config_path.write_text(json.dumps(config))
        arguments = ["-X", "importtime", str(CHILD), str(config_path)]
        _, _, stderr = self.run_python(arguments, self.copy, self.timeout + 15)
        stderr = stderr.replace(str(self.copy), str(self.project.root))
        if MARKER not in stderr:  # the child died before the import: this interpreter cannot run it
            raise CouldNotRun(f"could not run {self.python}: {stderr.strip()[-600:]}")
        report = self.scratch / "report.json"
        if not report.exists():
            return None, stderr
        # Paths in messages name the project, not the copy the import ran on.
        return json.loads(report.read_text().replace(str(self.copy), str(self.project.root))), stderr

    def at(self, where):
        return where or f"{self.entrypoint.file}:{self.entrypoint.line}"

    def event_findings(self, result):
        for event in result["events"]:
            yield Finding.of_kind(event["kind"], self.at(event["where"]), f"the import {event['what']}")
        for shadow in result.get("shadowed", []):
            yield error(
                shadow["where"],
                f"{shadow['where'].partition(':')[0]} hides {shadow['name']!r} of {shadow['provider']}",
                "the project root comes first on sys.path on Vercel, so every `import "
                f"{shadow['name']}` (yours and your dependencies') gets this file and fails",
                "rename it to a name only this project uses",
            )

    def result_findings(self, result):
        file, module, variable = self.entrypoint.file, self.entrypoint.module, self.entrypoint.variable
        failure = result["error"]
        if failure and failure["setting"]:
            yield Finding.of_kind(
                "setting",
                self.at(failure["where"]),
                f"the import requires {failure['setting']}, which is not set ({failure['type']}: "
                f"{failure['message']})",
            )
        elif failure and not failure["simulated"]:
            yield import_failure(self.at(failure["where"]), failure, module)
        elif result.get("missing_variable"):
            yield error(
                f"{file}:{self.entrypoint.line}",
                f"{file} defines no variable {variable} once imported",
                f'Vercel\'s runtime stops with missing variable "{variable}" in file "{module}"',
                f"define {variable} at the top level of {file}, outside if/try blocks",
            )
        elif result.get("interface_problem"):
            yield error(
                f"{file}:{self.entrypoint.line}",
                f"{module}.{variable} is a {result['app_type']}: {result['interface_problem']}",
                "Vercel's runtime cannot serve it and every request fails",
                f"assign the Flask app itself to {variable}",
            )

    def did_not_finish(self, stderr):
        stack = (self.scratch / "stack.txt").read_text() if (self.scratch / "stack.txt").exists() else ""
        if not stack:
            return error(
                f"{self.entrypoint.file}:1",
                f"the interpreter died while importing {self.entrypoint.file}: {stderr.strip()[-300:]}",
                "the same happens on Vercel at every cold start",
                f"run `python -c 'import {self.entrypoint.module}'` to see it",
            )
        where = stuck_at(stack, self.copy) or f"{self.entrypoint.file}:1"
        return error(
            where,
            f"importing {self.entrypoint.file} did not finish within {self.timeout:g} s (stopped here)",
            "Vercel imports the module before serving anything, so the function times out at every cold "
            "start (a server started at import, a loop, a wait on the network or on input)",
            'move that work into a function; a server belongs under `if __name__ == "__main__":`',
        )

    def created(self, item):
        name = item[0]
        return Finding.of_kind("write", f"{self.entrypoint.file}:1", f"the import created or changed {name}")


def slow_import(report):
    """A warning when the import took much longer than Flask's own, measured in the same process."""
    if report.import_ms is None:
        return []
    limit = SLOW_FACTOR * report.flask_ms if report.flask_ms else SLOW_WITHOUT_FLASK_MS
    if report.import_ms <= limit:
        return []
    yardstick = f"{SLOW_WITHOUT_FLASK_MS} ms"
    if report.flask_ms:
        yardstick = f"{SLOW_FACTOR} × `import flask` alone ({report.flask_ms:.0f} ms)"
    largest = ", ".join(f"{name} {ms:.0f} ms" for name, ms in report.largest_imports[:3])
    return [
        warning(
            f"{report.entrypoint.file}:1",
            f"importing {report.entrypoint.file} took {report.import_ms:.0f} ms, more than "
            f"{yardstick}" + (f"; the largest imports: {largest}" if largest else ""),
            "every cold start pays this before the first request is served",
            "import what only some requests need inside the functions that use it",
            SLOW_IMPORT,
        )
    ]


def import_failure(where, failure, module):
    if failure["type"] in ("SyntaxError", "IndentationError", "TabError"):
        fix = SYNTAX_FIX
    elif failure["type"] in ("ModuleNotFoundError", "ImportError"):
        fix = (
            "make sure every package the app imports is in requirements.txt or pyproject.toml (Vercel "
            "installs only those) and that the import names a module of the project"
        )
    else:
        fix = f"run `python -c 'import {module}'` with only the variables set on Vercel, and fix that line"
    return error(
        where,
        f"importing the entrypoint raised {failure['type']}: {failure['message']}",
        IMPORT_FAILS,
        fix,
    )


def copy_as_deployed(root, destination):
    """The project's files as the function has them: no local state, no .env files (Vercel does not read
    them) and no public/ directories (the builder leaves them to the CDN)."""

    def ignore(directory, names):
        return [
            name
            for name in names
            if name == ".env"
            or name.startswith(".env.")
            or (Path(directory, name).is_dir() and (name == PUBLIC or is_local_state(Path(directory, name))))
        ]

    try:
        shutil.copytree(root, destination, symlinks=True, ignore=ignore)
    except (OSError, shutil.Error) as reason:
        raise CouldNotRun(f"could not run: cannot copy {root} to import it ({reason})") from None


def snapshot(root):
    return {
        name: (Path(root, name).stat().st_size, Path(root, name).stat().st_mtime_ns)
        for name in walk_files(root)
    }


def top_level_names(project):
    """The project's importable top-level modules and packages, as {name: where}."""
    names = {}
    for path in sorted(project.root.iterdir()):
        if path.suffix == ".py" and path.is_file() and path.stem.isidentifier():
            names[path.stem] = f"{path.name}:1"
        elif path.is_dir() and path.name.isidentifier() and not is_local_state(path):
            init = path / "__init__.py"
            if init.exists():
                names[path.name] = f"{path.name}/__init__.py:1"
    return names


def largest_imports(importtime, own):
    """(top-level module, cumulative ms) from `-X importtime` lines, the costliest first."""
    found = {}
    for line in importtime.splitlines():
        match = IMPORTTIME.match(line)
        if match and "." not in match[3] and match[3] not in own:
            found[match[3]] = max(found.get(match[3], 0), int(match[1]) / 1000)
    return sorted(found.items(), key=lambda item: -item[1])


def stuck_at(stack, root):
    """The innermost project line in a faulthandler dump of the main thread."""
    for line in stack.splitlines():
        match = re.match(r'\s*File "(.+)", line (\d+)', line)
        if match and match[1].startswith(f"{root}{os.sep}"):
            return f"{os.path.relpath(match[1], root)}:{match[2]}"
    return None

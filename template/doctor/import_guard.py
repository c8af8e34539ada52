"""Import the entrypoint the way a cold start does and report every side effect.

Vercel imports ``index`` on every cold start, in many instances at once, on a read-only disk.
Anything that import does besides defining things (connecting, writing, spawning) is a
future ``FUNCTION_INVOCATION_FAILED``. The import runs in a fresh interpreter under an audit
hook, with a database URL that cannot be reached, and reports what it saw as JSON.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .findings import Finding

# Imported on first use, never at cold start: together they cost several hundred ms.
HEAVY_MODULES = (
    "sqlalchemy",
    "flask_sqlalchemy",
    "flask_migrate",
    "alembic",
    "psycopg",
    "psycopg2",
    "sqlite3",
)
# Port 1 on loopback refuses at once: a connect attempt fails fast and loudly.
UNREACHABLE_DATABASE_URL = "postgresql://guard:guard@127.0.0.1:1/guard"
REPORT_MARKER = "@@import-guard-report@@"

# Runs in the child interpreter. Kept free of project imports on purpose.
_CHILD = r"""
import importlib.machinery, json, os, sys, threading, traceback

root, module_name, heavy, marker = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
guard_file = __file__ if "__file__" in globals() else "<guard>"
side_effects = []
heavy_import_sites = {}
recording = True

def user_line():
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(root + os.sep) and "site-packages" not in name:
            return f"{os.path.relpath(name, root)}:{frame.f_lineno}"
        frame = frame.f_back
    return "<outside the project>"

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

def is_write(mode, flags):
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return isinstance(flags, int) and bool(flags & WRITE_FLAGS)

def record(kind, what):
    side_effects.append({"kind": kind, "what": what, "where": user_line()})

def hook(event, args):
    if not recording:
        return
    if event == "socket.connect":
        record("network", f"socket connect to {args[1]!r}")
    elif event == "socket.getaddrinfo":
        record("network", f"DNS lookup of {args[0]!r}")
    elif event == "open" and is_write(args[1], args[2]) and args[0] not in ("/dev/null", os.devnull):
        record("filesystem", f"opened {args[0]!r} for writing")
    elif event in ("os.mkdir", "os.rmdir", "os.remove", "os.rename", "os.truncate", "shutil.rmtree"):
        record("filesystem", f"{event} {args[0]!r}")
    elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork"):
        record("process", f"started a process ({event} {args[0]!r})")
    elif event == "sqlite3.connect":
        record("database", f"connected to SQLite database {args[0]!r}")

class HeavyImportWatch:
    # Notes which line of the project first imported each heavy module; finds nothing itself.
    def find_spec(self, name, path=None, target=None):
        if recording and name in heavy and name not in heavy_import_sites:
            heavy_import_sites[name] = user_line()
        return None

class DriverConnectGuard:
    # psycopg connects from C code, out of the audit hook's sight: wrap the driver's connect.
    drivers = {"psycopg", "psycopg2"}

    def find_spec(self, name, path=None, target=None):
        if name not in self.drivers:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        run_module = spec.loader.exec_module

        def exec_module(module):
            run_module(module)
            connect = module.connect

            def guarded_connect(*args, **kwargs):
                if recording:
                    record("database", f"{name}.connect() to a database")
                return connect(*args, **kwargs)

            module.connect = guarded_connect

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path[:0] = [HeavyImportWatch(), DriverConnectGuard()]
sys.path.insert(0, root)
threads_before = threading.active_count()
sys.addaudithook(hook)
report = {"module": module_name, "error": None, "error_where": f"{module_name}.py:1"}
try:
    module = __import__(module_name)
except BaseException as error:
    report["error"] = traceback.format_exc()
    kind = type(error).__qualname__
    if type(error).__module__ != "builtins":
        kind = f"{type(error).__module__}.{kind}"
    message = str(error).strip().splitlines()
    report["error_summary"] = f"{kind}: {message[0]}" if message else kind
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.startswith(root + os.sep) and "site-packages" not in frame.filename:
            report["error_where"] = f"{os.path.relpath(frame.filename, root)}:{frame.lineno}"
    module = None
recording = False
if threading.active_count() > threads_before:
    side_effects.append({"kind": "thread", "what": "started a thread", "where": f"{module_name}.py:1"})
report["side_effects"] = side_effects
report["heavy_modules"] = sorted(m for m in heavy if m in sys.modules)
report["heavy_import_sites"] = heavy_import_sites
app = getattr(module, "app", None)
report["app_type"] = f"{type(app).__module__}.{type(app).__qualname__}"
print(marker + json.dumps(report))
"""


@dataclass
class ImportReport:
    module: str = "index"
    side_effects: list = field(default_factory=list)
    heavy_modules: list = field(default_factory=list)
    heavy_import_sites: dict = field(default_factory=dict)
    app_type: str = ""
    error: str | None = None
    error_where: str = "index.py:1"
    error_summary: str = ""

    def findings(self):
        """Each problem as the doctor reports it: where, what, why it breaks on Vercel, the fix."""
        during = f"while importing {self.module}"
        found = [
            Finding.of_kind(effect["kind"], effect["where"], f"{effect['what']} {during}")
            for effect in self.side_effects
        ]
        for name in self.heavy_modules:
            where = self.heavy_import_sites.get(name, f"{self.module}.py:1")
            found.append(Finding.of_kind("heavy", where, f"imports {name} {during}"))
        if self.error:
            summary = self.error_summary or self.error.strip().splitlines()[-1]
            found.append(
                Finding(
                    self.error_where,
                    f"importing {self.module} raised {summary}",
                    "Vercel answers every request with 500 FUNCTION_INVOCATION_FAILED",
                    f'see the traceback of `python -c "import {self.module}"` and fix that line',
                )
            )
        elif self.app_type != "flask.app.Flask":
            found.append(
                Finding(
                    f"{self.module}.py:1",
                    f"{self.module}.app is a {self.app_type}, not a Flask app",
                    f"Vercel's runtime serves the variable `app` of {self.module}.py and fails without it",
                    "end the file with `app = create_app()`",
                )
            )
        return found

    @property
    def problems(self):
        """One line per problem, each saying where and what; empty when the import is pure."""
        lines = [str(finding) for finding in self.findings()]
        if self.error:
            lines.append(self.error)  # the whole traceback, for a failing test
        return lines


def check_import(project_dir, *, module="index", python=sys.executable, env=None):
    """Import ``module`` from ``project_dir`` in a fresh interpreter and report side effects."""
    root = str(Path(project_dir).resolve())
    child_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": UNREACHABLE_DATABASE_URL,
        "PYTHONDONTWRITEBYTECODE": "1",  # as on Vercel; a .pyc write would be reported
        **(env or {}),
    }
    result = subprocess.run(
        [python, "-c", _CHILD, root, module, ",".join(HEAVY_MODULES), REPORT_MARKER],
        cwd=root,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    for line in result.stdout.splitlines():
        if line.startswith(REPORT_MARKER):
            return ImportReport(**json.loads(line.removeprefix(REPORT_MARKER)))
    return ImportReport(error=f"the import check itself failed (exit {result.returncode}):\n{result.stderr}")

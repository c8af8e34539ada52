"""The doctor's static pass: read the project's files, import none of them.

It looks for the code that runs at import time (module level, class bodies, top-level
``if``/``try``/``with`` blocks; not function bodies, not ``if __name__ == "__main__":``) and
flags calls that reach a database, the network, the disk or another process, and
``os.environ[...]`` lookups. It also checks the layout: modules that shadow the entrypoint,
the standard library or a dependency, and ``vercel.json``.

What runs inside functions called at import (``create_app()``) is the dynamic pass's job.
"""

import ast
import json
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from textwrap import shorten

from .findings import Finding

# Never deployed (vercel.json excludes them) or run only by Alembic, never at cold start.
NOT_IMPORTED_AT_COLD_START = {"tests", "doctor", "migrations"}
TOOLING_DIRECTORIES = {"__pycache__", "node_modules", "site-packages"}
ENTRYPOINT = "index"
# Vercel's builder serves the first of these files that defines one of these names at top level.
ENTRY_DIRECTORIES = ("", "src", "app", "api")
ENTRY_FILES = ("app.py", "index.py", "server.py", "main.py", "wsgi.py", "asgi.py")
ENTRY_NAMES = {"app", "application", "handler"}

DATABASE_CALLS = {
    "sqlite3.connect",
    "psycopg.connect",
    "psycopg2.connect",
    "psycopg_pool.ConnectionPool",
    "pymysql.connect",
    "MySQLdb.connect",
    "mysql.connector.connect",
}
# Methods that reach the database whatever the receiver: db.create_all(), metadata.reflect(engine).
DATABASE_METHODS = {"create_all", "drop_all", "reflect"}
ENGINE_METHODS = {"connect", "begin", "raw_connection", "execute"}
SESSION_METHODS = {"query", "execute", "scalar", "scalars", "commit", "add", "add_all", "get", "flush"}
QUERY_METHODS = {"all", "first", "one", "one_or_none", "count", "get", "scalar", "paginate"}
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "request", "stream"}
NETWORK_CALLS = {
    "urllib.request.urlopen",
    "urllib.request.urlretrieve",
    "socket.create_connection",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.socket().connect",
    "smtplib.SMTP",
    "smtplib.SMTP_SSL",
    "http.client.HTTPConnection().request",
    "http.client.HTTPSConnection().request",
}
FILESYSTEM_CALLS = {
    *(f"os.{name}" for name in ("makedirs", "mkdir", "remove", "unlink", "rmdir", "removedirs")),
    *(f"os.{name}" for name in ("rename", "renames", "replace", "symlink", "link", "truncate", "chmod")),
    *(f"shutil.{name}" for name in ("copy", "copy2", "copyfile", "copytree", "move", "rmtree")),
}
# pathlib's writing methods; their names are distinctive enough to flag on any receiver.
PATH_WRITE_METHODS = {"mkdir", "write_text", "write_bytes", "touch", "unlink", "rmdir", "symlink_to"}
FILE_HANDLERS = {
    "logging.FileHandler",
    "logging.handlers.RotatingFileHandler",
    "logging.handlers.TimedRotatingFileHandler",
    "logging.handlers.WatchedFileHandler",
}
OPEN_FUNCTIONS = {"open", "io.open", "codecs.open"}
PROCESS_CALLS = {
    *(f"subprocess.{name}" for name in ("run", "call", "check_call", "check_output", "Popen")),
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "os.system",
    "os.popen",
    "os.fork",
}
PROCESS_PREFIXES = ("os.exec", "os.spawn", "os.posix_spawn")
THREAD_STARTS = {"threading.Thread().start", "threading.Timer().start"}


def check_project(root):
    """Every static finding for the project at ``root``, sorted by file and line."""
    root = Path(root)
    findings = []
    for path in python_files(root):
        findings += check_source(path.read_text(encoding="utf-8"), path.relative_to(root).as_posix())
    findings += check_layout(root)
    findings += check_vercel_json(root)
    return sorted(set(findings), key=lambda f: location_key(f.where))


def location_key(where):
    path, _, line = where.rpartition(":")
    return (path, int(line)) if line.isdigit() else (where, 0)


def is_skipped_directory(path):
    name = path.name
    return (
        name.startswith(".")
        or name in TOOLING_DIRECTORIES
        or (path / "pyvenv.cfg").exists()  # a virtualenv, whatever its name
    )


def python_files(root):
    """The project's own Python files: no venvs, caches, tests or build-time-only code."""
    for path in sorted(root.iterdir()):
        if path.is_dir():
            if not is_skipped_directory(path) and path.name not in NOT_IMPORTED_AT_COLD_START:
                yield from package_files(path)
        elif path.suffix == ".py":
            yield path


def package_files(directory):
    for path in sorted(directory.iterdir()):
        if path.is_dir():
            if not is_skipped_directory(path):
                yield from package_files(path)
        elif path.suffix == ".py":
            yield path


def check_source(source, filename):
    """Findings for one module's import-time code."""
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as error:
        return [
            Finding(
                f"{filename}:{error.lineno or 1}",
                f"syntax error: {error.msg}",
                "the import fails on every cold start",
                "fix the syntax (python -m py_compile shows it)",
            )
        ]
    visitor = ImportTimeCode(filename)
    visitor.visit(tree)
    return visitor.findings


class ImportTimeCode(ast.NodeVisitor):
    """Walks only the code that runs when the module is imported."""

    def __init__(self, filename):
        self.filename = filename
        self.aliases = {}  # local name -> dotted name it was imported as
        self.bindings = {}  # module-level name -> dotted call it holds, e.g. "sqlalchemy.create_engine()"
        self.findings = []

    # Scopes that do not run at import: only their decorators and defaults do.
    def visit_FunctionDef(self, node):
        for expression in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]:
            if expression is not None:
                self.visit(expression)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        for expression in [*node.args.defaults, *node.args.kw_defaults]:
            if expression is not None:
                self.visit(expression)

    def visit_If(self, node):
        if is_main_guard(node.test):
            for statement in node.orelse:
                self.visit(statement)
        else:
            self.generic_visit(node)

    def visit_Import(self, node):
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                top = alias.name.partition(".")[0]
                self.aliases[top] = top

    def visit_ImportFrom(self, node):
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"

    def visit_Assign(self, node):
        self.generic_visit(node)
        if isinstance(node.value, ast.Call):
            call = self.dotted(node.value)
            for target in node.targets:
                if isinstance(target, ast.Name) and call:
                    self.bindings[target.id] = call

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load) and self.dotted(node.value) == "os.environ":
            key = ast.unparse(node.slice)
            self.report("environ", node, f"os.environ[{key}] is read at import")

    def visit_Call(self, node):
        self.generic_visit(node)
        kind = self.kind_of_call(node)
        if kind:
            self.report(kind, node, f"{shorten(ast.unparse(node), 70, placeholder='...)')} runs at import")

    def kind_of_call(self, node):
        name = self.dotted(node) or ""
        name = name.removesuffix("()")
        method = node.func.attr if isinstance(node.func, ast.Attribute) else None
        parts = name.split(".")
        if name in DATABASE_CALLS or method in DATABASE_METHODS:
            return "database"
        if method in ENGINE_METHODS and ("create_engine()" in parts or "engine" in parts[:-1]):
            return "database"
        if method in SESSION_METHODS and any(p.lower().startswith("session") for p in parts[:-1]):
            return "database"
        if method in QUERY_METHODS and "query" in parts[1:-1]:
            return "database"
        if name in NETWORK_CALLS or (parts[0] in ("requests", "httpx") and parts[-1] in HTTP_METHODS):
            return "network"
        if name in FILESYSTEM_CALLS or method in PATH_WRITE_METHODS:
            return "filesystem"
        if name in OPEN_FUNCTIONS and opens_for_writing(node, mode_position=1):
            return "filesystem"
        if method == "open" and name not in OPEN_FUNCTIONS and opens_for_writing(node, mode_position=0):
            return "filesystem"
        if name in FILE_HANDLERS and not keyword_is_true(node, "delay"):
            return "filesystem"
        if name == "logging.basicConfig" and any(k.arg == "filename" for k in node.keywords):
            return "filesystem"
        if name in PROCESS_CALLS or name.startswith(PROCESS_PREFIXES):
            return "process"
        if name in THREAD_STARTS:
            return "thread"
        return None

    def dotted(self, node):
        """``os.makedirs`` for os.makedirs, ``sqlalchemy.create_engine().connect`` for a chain."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id) or self.bindings.get(node.id) or node.id
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            function = self.dotted(node.func)
            return f"{function}()" if function else None
        return None

    def report(self, kind, node, what):
        self.findings.append(Finding.of_kind(kind, f"{self.filename}:{node.lineno}", what))


def is_main_guard(test):
    """``if __name__ == "__main__":``: runs as a script, never on import."""
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def opens_for_writing(call, mode_position):
    """Reading the project's own files at import is fine; writing is not. Unknown modes are left alone."""
    mode = call.args[mode_position] if len(call.args) > mode_position else None
    for keyword in call.keywords:
        if keyword.arg == "mode":
            mode = keyword.value
    if not (isinstance(mode, ast.Constant) and isinstance(mode.value, str) and is_file_mode(mode.value)):
        return False
    return any(flag in mode.value for flag in "wax+")


def is_file_mode(text):
    """A real ``open()`` mode, so that ``webbrowser.open("www...")`` is not taken for one."""
    counts = [sum(text.count(c) for c in group) for group in ("rwax", "bt", "+")]
    return set(text) <= set("rwaxbt+") and counts[0] == 1 and counts[1] <= 1 and counts[2] <= 1


def keyword_is_true(call, name):
    return any(
        k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords
    )


def check_layout(root):
    """Top-level modules and packages whose names break imports on Vercel."""
    modules = {path.stem: path for path in root.glob("*.py")}
    packages = {
        path.name: path
        for path in root.iterdir()
        if path.is_dir() and not is_skipped_directory(path) and any(path.glob("*.py"))
    }
    dependencies = dependency_import_names(root)
    findings = entrypoint_findings(root)
    for name, module in sorted(modules.items()):
        if name in packages:
            findings.append(
                Finding(
                    f"{module.name}:1",
                    f"{module.name} has the same name as the package {name}/",
                    f"Vercel loads {module.name} as the module {name!r}, so `from {name} import ...`"
                    f" fails (cannot import name ... from {name!r}, or {name!r} is not a package)",
                    f"keep the app in {ENTRYPOINT}.py and delete or rename {module.name}",
                )
            )
    for name, path in sorted({**modules, **packages}.items()):
        where = module_location(path)
        if name == ENTRYPOINT and path.is_dir():
            findings.append(
                Finding(
                    where,
                    f"the package {name}/ shadows the entrypoint {ENTRYPOINT}.py",
                    f"`import {ENTRYPOINT}` finds the package instead of the app, so flask and the "
                    "import check load the wrong module",
                    f"rename the package; {ENTRYPOINT}.py must be the only {ENTRYPOINT}",
                )
            )
        elif name in sys.stdlib_module_names:
            findings.append(shadow_finding(where, name, "the standard-library module"))
        elif name in dependencies:
            findings.append(shadow_finding(where, name, f"the dependency {dependencies[name]}'s module"))
    return findings


def entrypoint_findings(root):
    """Another file that Vercel would serve instead of index.py."""
    if not (root / f"{ENTRYPOINT}.py").is_file() or vercel_settings(root).get("entrypoint"):
        return []
    for directory in ENTRY_DIRECTORIES:
        for name in ENTRY_FILES:
            path = root / directory / name
            line = entry_definition_line(path) if path.is_file() else None
            if line is None:
                continue
            if path == root / f"{ENTRYPOINT}.py":
                return []
            where = path.relative_to(root).as_posix()
            return [
                Finding(
                    f"{where}:{line}",
                    f"Vercel serves {where} instead of {ENTRYPOINT}.py",
                    f"its builder takes the first of {', '.join(ENTRY_FILES)} (in the root, then src/, app/, "
                    f"api/) that defines app, so {ENTRYPOINT}.py and everything tested through it never runs",
                    f"move that code into the package and leave `app` to {ENTRYPOINT}.py, or rename {where}",
                )
            ]
    return []


def entry_definition_line(path):
    """The line where ``path`` defines a name Vercel's builder looks for, or None."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {target.id for target in targets if isinstance(target, ast.Name)}
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names = {node.name}
        elif isinstance(node, ast.ImportFrom):
            names = {alias.asname or alias.name for alias in node.names}
        else:
            continue
        if names & ENTRY_NAMES:
            return node.lineno
    return None


def module_location(path):
    if path.is_file():
        return f"{path.name}:1"
    init = path / "__init__.py"
    first = init if init.exists() else min(path.glob("*.py"))
    return f"{path.name}/{first.name}:1"


def shadow_finding(where, name, shadowed):
    return Finding(
        where,
        f"{where.partition(':')[0]} shadows {shadowed} {name!r}",
        f"the project directory comes first on Vercel's sys.path, so every `import {name}` "
        "(yours and your dependencies') gets this file instead and the import fails",
        "rename it to something only this project uses",
    )


def normalize(distribution):
    return re.sub(r"[-_.]+", "-", distribution).lower()


def read_pyproject(root):
    try:
        return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def vercel_settings(root):
    """``[tool.vercel]``: an ``entrypoint`` there overrides Vercel's search for one."""
    return read_pyproject(root).get("tool", {}).get("vercel", {})


def dependency_import_names(root):
    """Import name -> distribution for the runtime dependencies and everything they require."""
    pyproject = read_pyproject(root)
    provided = {}  # distribution -> its top-level import names, for what is installed
    for module, distributions in metadata.packages_distributions().items():
        for distribution in distributions:
            provided.setdefault(normalize(distribution), set()).add(module)
    pending = [requirement_name(r) for r in pyproject.get("project", {}).get("dependencies", [])]
    names, seen = {}, set()
    while pending:
        distribution = normalize(pending.pop())
        if not distribution or distribution in seen:
            continue
        seen.add(distribution)
        for module in provided.get(distribution, {distribution.replace("-", "_")}):
            names.setdefault(module, distribution)
        try:
            requires = metadata.requires(distribution) or []
        except metadata.PackageNotFoundError:
            requires = []
        pending += [requirement_name(r) for r in requires if "extra ==" not in r]
    return names


def requirement_name(requirement):
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return match.group(1) if match else ""


def check_vercel_json(root):
    path = root / "vercel.json"
    if not path.exists():
        return [missing_framework_finding("vercel.json:1", "there is no vercel.json")]
    text = path.read_text(encoding="utf-8")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        return [
            Finding(
                f"vercel.json:{error.lineno}",
                f"vercel.json is not valid JSON ({error.msg})",
                "Vercel refuses to deploy the project",
                "fix the JSON",
            )
        ]
    if not isinstance(config, dict):
        return [missing_framework_finding("vercel.json:1", "vercel.json is not a JSON object")]
    findings = []
    for key in ("builds", "routes"):
        if key in config:
            findings.append(
                Finding(
                    f"vercel.json:{line_of_key(text, key)}",
                    f'vercel.json uses the legacy "{key}"',
                    "it switches off the Flask framework preset: the build step in [tool.vercel.scripts] "
                    "does not run and routing falls back to hand-written rules",
                    f'delete "{key}" and let "framework": "flask" build index.py as the function '
                    '(use "rewrites" for routing)',
                )
            )
    if config.get("framework") != "flask":
        where = f"vercel.json:{line_of_key(text, 'framework')}"
        findings.append(missing_framework_finding(where, 'vercel.json does not set "framework": "flask"'))
    return findings


def missing_framework_finding(where, what):
    return Finding(
        where,
        what,
        'with the project\'s framework setting at "Other", Vercel builds no Python function and '
        "serves index.py as a static file",
        'add "framework": "flask" to vercel.json',
    )


def line_of_key(text, key):
    for number, line in enumerate(text.splitlines(), start=1):
        if f'"{key}"' in line:
            return number
    return 1

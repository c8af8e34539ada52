"""The static pass: read the modules Vercel would import, run none of them.

It looks at the code that runs at import time (module level, class bodies, top-level
``if``/``try``/``with`` blocks; not function bodies, not ``if __name__ == "__main__":``) of every
module the entrypoint imports, directly or not, and flags calls that reach a database, the network,
the disk outside /tmp or another process, ``os.environ[...]`` lookups and a server started at import.
What runs inside functions called at import (``create_app()``) is the import pass's job.
"""

import ast
from textwrap import shorten

from . import sources
from .findings import IMPORT_FAILS, SYNTAX_FIX, Finding, error, warning

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
SERVER_CALLS = {"werkzeug.serving.run_simple", "waitress.serve", "bjoern.run"}
# Names whose .run() starts a development server: the app object or what a factory returned.
APP_FACTORIES = ("Flask", "create_app", "make_app", "get_app", "build_app")


def check_project(project, resolution):
    """Static findings for the modules Vercel imports, the entry layout and the configuration files."""
    entry_files = [entrypoint.file for entrypoint in resolution.entrypoints]
    imported = reachable_files(project, entry_files) if entry_files else None
    findings = []
    for name in imported if imported is not None else project.python_files:
        findings += check_file(project, name, imported=imported is not None)
    for entrypoint in resolution.entrypoints:
        findings += entry_clash(project, entrypoint)
    return findings + check_configuration(project)


def check_file(project, name, *, imported):
    try:
        text = project.source(name)
        tree = ast.parse(text, name)
    except (sources.UnreadableSource, SyntaxError, ValueError, OSError) as problem:
        line = getattr(problem, "lineno", None) or 1
        make = error if imported else warning
        why = IMPORT_FAILS if imported else "importing it raises SyntaxError"
        what = f"importing the entrypoint raised SyntaxError: {getattr(problem, 'msg', None) or problem}"
        if not imported:
            what = f"{name} cannot be imported: {getattr(problem, 'msg', None) or problem}"
        return [make(f"{name}:{line}", what, why, SYNTAX_FIX)]
    visitor = ImportTimeCode(name)
    visitor.visit(tree)
    return visitor.findings


def reachable_files(project, start):
    """The project's modules that ``start`` imports, directly or not (imports in functions count too)."""
    known = set(project.python_files)
    pending, seen = list(start), []
    while pending:
        name = pending.pop()
        if name in seen or name not in known:
            continue
        seen.append(name)
        try:
            tree = ast.parse(project.source(name))
        except (sources.UnreadableSource, SyntaxError, ValueError, OSError):
            continue
        package = name.split("/")[:-1]
        for module in imported_modules(tree, package):
            parts = module.split(".")
            for end in range(1, len(parts) + 1):
                path = "/".join(parts[:end])
                pending += [f"{path}.py", f"{path}/__init__.py"]
    return sorted(seen)


def imported_modules(tree, package):
    """Dotted names an AST may import, relative imports resolved against ``package`` (a path list)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            base = ".".join([*base, *(node.module.split(".") if node.module else [])])
            if base:
                yield base
            yield from (f"{base}.{alias.name}".lstrip(".") for alias in node.names if alias.name != "*")


class ImportTimeCode(ast.NodeVisitor):
    """Walks only the code that runs when the module is imported."""

    def __init__(self, filename):
        self.filename = filename
        self.aliases = {}  # local name -> dotted name it was imported as
        self.bindings = {}  # module-level name -> dotted call it holds, e.g. "sqlalchemy.create_engine()"
        self.tmp_names = set()  # names bound to a path under /tmp or tempfile's directory
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
        if self.is_tmp(node.value):
            self.tmp_names.update(t.id for t in node.targets if isinstance(t, ast.Name))
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
        name = (self.dotted(node) or "").removesuffix("()")
        method = node.func.attr if isinstance(node.func, ast.Attribute) else None
        parts = name.split(".")
        if name in SERVER_CALLS or (method == "run" and self.is_app(node.func.value)):
            return "server"
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
        if self.writes_outside_tmp(node, name, method):
            return "write"
        if name in PROCESS_CALLS or name.startswith(PROCESS_PREFIXES):
            return "process"
        if name in THREAD_STARTS:
            return "thread"
        return None

    def writes_outside_tmp(self, node, name, method):
        """A write to the deployed files; writes under /tmp or tempfile's directory are fine on Vercel."""
        first = node.args[0] if node.args else None
        if name in FILESYSTEM_CALLS or (name in OPEN_FUNCTIONS and opens_for_writing(node, 1)):
            return not self.is_tmp(first)
        if method in PATH_WRITE_METHODS or (
            method == "open" and name not in OPEN_FUNCTIONS and opens_for_writing(node, 0)
        ):
            return not self.is_tmp(node.func.value)
        if name in FILE_HANDLERS and not keyword_is_true(node, "delay"):
            return not self.is_tmp(first or keyword(node, "filename"))
        if name == "logging.basicConfig" and keyword(node, "filename") is not None:
            return not self.is_tmp(keyword(node, "filename"))
        return False

    def is_tmp(self, node):
        """Whether a path expression starts under /tmp or tempfile's directory, as far as the code says."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value == "/tmp" or node.value.startswith("/tmp/")
        if isinstance(node, ast.JoinedStr) and node.values:
            return self.is_tmp(node.values[0]) or self.is_tmp(getattr(node.values[0], "value", None))
        if isinstance(node, ast.BinOp):
            return self.is_tmp(node.left)
        if isinstance(node, ast.Call):
            name = self.dotted(node.func) or ""
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            return (
                name.startswith("tempfile.")
                or bool(node.args and self.is_tmp(node.args[0]))
                or (receiver is not None and self.is_tmp(receiver))
            )
        if isinstance(node, ast.Name) and node.id in self.tmp_names:
            return True
        if isinstance(node, ast.Attribute | ast.Name):
            return (self.dotted(node) or "").startswith("tempfile.")
        return False

    def is_app(self, node):
        """The Flask app: named app/application, or bound to Flask(...) or a factory's result."""
        if not isinstance(node, ast.Name):
            return False
        bound = self.bindings.get(node.id, "").removesuffix("()").rpartition(".")[2]
        return node.id in ("app", "application") or bound in APP_FACTORIES

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


def keyword(call, name):
    return next((k.value for k in call.keywords if k.arg == name), None)


def keyword_is_true(call, name):
    value = keyword(call, name)
    return isinstance(value, ast.Constant) and value.value is True


def opens_for_writing(call, mode_position):
    """Reading the project's own files at import is fine; writing is not. Unknown modes are left alone."""
    mode = call.args[mode_position] if len(call.args) > mode_position else None
    mode = keyword(call, "mode") or mode
    if not (isinstance(mode, ast.Constant) and isinstance(mode.value, str) and is_file_mode(mode.value)):
        return False
    return any(flag in mode.value for flag in "wax+")


def is_file_mode(text):
    """A real ``open()`` mode, so that ``webbrowser.open("www...")`` is not taken for one."""
    counts = [sum(text.count(c) for c in group) for group in ("rwax", "bt", "+")]
    return set(text) <= set("rwaxbt+") and counts[0] == 1 and counts[1] <= 1 and counts[2] <= 1


def entry_clash(project, entrypoint):
    """An entry module named like a package: Vercel registers the file under that name before running it."""
    package = entrypoint.file.removesuffix(".py")
    if entrypoint.file.endswith("__init__.py") or not any((project.root / package).glob("*.py")):
        return []
    return [
        error(
            f"{entrypoint.file}:1",
            f"{entrypoint.file} has the same name as the package {package}/",
            f"Vercel's runtime registers {entrypoint.file} as the module {entrypoint.module!r} before "
            f"running it, so `from {entrypoint.module} import ...` finds the file, not the package "
            f"(cannot import name ..., or {entrypoint.module!r} is not a package)",
            f"rename {entrypoint.file} (to index.py, for example) or the package",
        )
    ]


def check_configuration(project):
    """vercel.json and pyproject.toml as Vercel reads them."""
    findings = []
    vercel_json = project.vercel_json
    if vercel_json and vercel_json.problem:
        findings.append(
            error(
                f"vercel.json:{vercel_json.line}",
                f"Vercel cannot read vercel.json: {vercel_json.problem}",
                "the deployment fails before anything is built",
                "save it as UTF-8 without a byte-order mark; `python -m json.tool vercel.json` checks it",
            )
        )
    elif vercel_json and not isinstance(vercel_json.data, dict):
        findings.append(
            error("vercel.json:1", "vercel.json is not a JSON object", "Vercel refuses it", "make it {...}")
        )
    if "routes" in project.vercel_config:
        line = project.line_of("vercel.json", '"routes"')
        findings.append(
            warning(
                f"vercel.json:{line}",
                'vercel.json uses the legacy "routes"',
                "hand-written routes bypass Vercel's routing to the Flask function, and cannot be combined "
                "with rewrites, redirects or headers",
                'use "rewrites" (or nothing: the Flask preset routes every path to the app)',
            )
        )
    if project.pyproject_problem:
        findings.append(
            error(
                "pyproject.toml:1",
                f"pyproject.toml is not valid TOML ({project.pyproject_problem})",
                "Vercel's build cannot install the dependencies",
                "fix the TOML",
            )
        )
    return findings

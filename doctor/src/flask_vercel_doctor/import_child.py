"""Import a project's entrypoint as Vercel's runtime does, in the project's own interpreter.

Run by path (``python -B import_child.py CONFIG.json``) by imports.py, never imported: it uses the
standard library only and nothing of the doctor, so it runs in any environment. Like Vercel it puts
the project root first on sys.path, registers the entry module in sys.modules before executing it,
and then picks the variable. An audit hook plays the read-only disk (writes outside /tmp raise
OSError) and notes what the import does; the report is written as JSON to the path in the config.
"""

import os
import sys

if sys.path and os.path.dirname(os.path.abspath(__file__)) == os.path.abspath(sys.path[0] or "."):
    del sys.path[0]  # this file's directory holds the doctor's modules, never the project's

import errno  # noqa: E402
import faulthandler  # noqa: E402
import importlib.machinery  # noqa: E402
import importlib.util  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
# Audit events that change the file system, and what each does, for the report.
PATH_EVENTS = {
    "os.mkdir": "creates the directory",
    "os.rmdir": "deletes the directory",
    "os.remove": "deletes",
    "os.truncate": "truncates",
    "os.chmod": "changes the mode of",
    "shutil.rmtree": "deletes the tree",
    "os.symlink": "creates the link",
    "os.rename": "renames",
    "os.link": "creates the link",
}
PROCESS_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork"}
DEVICES = {os.devnull, "/dev/stdout", "/dev/stderr", "/dev/tty"}


class StartsAServer(BaseException):
    """Raised where the import binds a listening socket: the server would never return."""


class Guard:
    def __init__(self, config):
        self.root = config["root"]
        self.roots = [self.root, config["original_root"]]
        self.writable = [os.path.realpath(path) for path in config["writable"]]
        self.events = []
        self.recording = True

    def where(self):
        """The innermost line of the project on the stack, as path:line relative to the root."""
        frame = sys._getframe(2)
        while frame is not None:
            name = frame.f_code.co_filename
            for root in self.roots:
                if name.startswith(root + os.sep) and "site-packages" not in name:
                    return f"{os.path.relpath(name, root)}:{frame.f_lineno}"
            frame = frame.f_back
        return None

    def record(self, kind, what):
        self.events.append({"kind": kind, "what": what, "where": self.where()})

    def is_writable(self, path):
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str | os.PathLike):
            return True  # a file descriptor or an unknown object: nothing new is created
        path = os.path.realpath(os.fspath(path))
        if path in DEVICES or path.startswith("/proc/"):
            return True
        if any(path == root or path.startswith(root + os.sep) for root in self.roots):
            return False
        return any(path == tmp or path.startswith(tmp + os.sep) for tmp in self.writable)

    def shown(self, path):
        """A path as the report shows it: relative to the project when inside it."""
        path = os.fsdecode(os.fspath(path))
        absolute = os.path.realpath(path)
        for root in self.roots:
            if absolute == root or absolute.startswith(root + os.sep):
                return repr(os.path.relpath(absolute, root))
        return repr(path)

    def refuse_write(self, description, path):
        self.record("write", f"{description} {self.shown(path)}")
        error = OSError(
            errno.EROFS, "Read-only file system (the doctor plays Vercel's disk)", os.fspath(path)
        )
        error.doctor_simulated = True
        raise error

    def hook(self, event, args):
        if not self.recording:
            return
        if event == "open" and is_write(args[1], args[2]) and not self.is_writable(args[0]):
            self.refuse_write("opens for writing", args[0])
        elif event in ("os.rename", "os.link") and not self.is_writable(args[1]):
            self.refuse_write(PATH_EVENTS[event], args[1])
        elif event in PATH_EVENTS and not self.is_writable(args[0]):
            self.refuse_write(PATH_EVENTS[event], args[0])
        elif event == "sqlite3.connect":
            self.sqlite(args[0])
        elif event == "socket.bind":
            self.record("server", f"binds a socket to {args[1]!r} (starts a server)")
            raise StartsAServer(args[1])
        elif event == "socket.connect":
            self.record("network", f"connects to {args[1]!r}")
        elif event == "socket.getaddrinfo" and not is_address(args[0]):
            self.record("network", f"looks up {args[0]!r}")
        elif event in PROCESS_EVENTS:
            self.record("process", f"starts a process ({event} {args[0]!r})")

    def sqlite(self, database):
        name = os.fspath(database) if isinstance(database, str | bytes | os.PathLike) else ""
        name = os.fsdecode(name)
        if name in ("", ":memory:") or name.startswith("file::memory:") or "mode=memory" in name:
            return
        path = name.removeprefix("file:").partition("?")[0]
        if not os.path.exists(path) and not self.is_writable(path):
            self.record("write", f"creates the SQLite database {self.shown(path)}")
            import sqlite3

            raise sqlite3.OperationalError("unable to open database file (the deployed files are read-only)")
        self.record("database", f"connects to the SQLite database {name!r}")


def is_address(host):
    """An IP address needs no lookup: only names are worth reporting."""
    import ipaddress

    try:
        ipaddress.ip_address(host.decode() if isinstance(host, bytes) else host)
    except (ValueError, TypeError, AttributeError):
        return host is None
    return True


def watch_threads(guard):
    """Threads have no audit event: note where the import starts one."""
    start = threading.Thread.start

    def watched_start(thread):
        if guard.recording:
            guard.record("thread", f"starts a thread ({thread.name})")
        return start(thread)

    threading.Thread.start = watched_start


def is_write(mode, flags):
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return isinstance(flags, int) and bool(flags & WRITE_FLAGS)


class DriverConnectWatch:
    """psycopg connects from C code, out of the audit hook's sight: wrap the driver's connect."""

    drivers = {"psycopg", "psycopg2"}

    def __init__(self, guard):
        self.guard = guard

    def find_spec(self, name, path=None, target=None):
        if name not in self.drivers:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        run_module, guard = spec.loader.exec_module, self.guard

        def exec_module(module):
            run_module(module)
            connect = module.connect

            def watched_connect(*args, **kwargs):
                if guard.recording:
                    guard.record("database", f"connects to a database with {name}.connect()")
                return connect(*args, **kwargs)

            module.connect = watched_connect

        spec.loader.exec_module = exec_module
        return spec


def shadowed_modules(config):
    """Top-level project modules that hide one of the standard library or of an installed package."""
    found = []
    search_path = [
        p for p in sys.path if os.path.abspath(p or ".") not in (config["root"], config["original_root"])
    ]
    for name, where in config["top_level"].items():
        if name in sys.stdlib_module_names and name not in ("test", "this", "antigravity"):
            found.append({"name": name, "where": where, "provider": "the standard library"})
            continue
        spec = importlib.machinery.PathFinder.find_spec(name, search_path)
        origin = spec and (spec.origin or next(iter(spec.submodule_search_locations or []), None))
        if origin and not any(
            origin.startswith(root + os.sep) for root in (config["root"], config["original_root"])
        ):
            found.append({"name": name, "where": where, "provider": f"the installed package at {origin}"})
    return found


def describe_error(error, guard, config):
    """What went wrong, where in the project, and which required setting was missing, if that was it."""
    frames = traceback.extract_tb(error.__traceback__)
    where = None
    for frame in frames:
        for root in guard.roots:
            if frame.filename.startswith(root + os.sep) and "site-packages" not in frame.filename:
                where = f"{os.path.relpath(frame.filename, root)}:{frame.lineno}"
    if (
        isinstance(error, SyntaxError)
        and error.filename
        and error.filename.startswith(config["root"] + os.sep)
    ):
        where = f"{os.path.relpath(error.filename, config['root'])}:{error.lineno or 1}"
    kind = type(error).__qualname__
    if type(error).__module__ not in ("builtins", "__main__"):
        kind = f"{type(error).__module__}.{kind}"
    message = str(error).strip()
    return {
        "type": kind,
        "message": message.splitlines()[0] if message else "",
        "traceback": "".join(traceback.format_exception(error)),
        "where": where,
        "setting": missing_setting(error, frames),
        "simulated": getattr(error, "doctor_simulated", False) or isinstance(error, StartsAServer),
    }


def missing_setting(error, frames):
    """The variable a settings read at import required, for os.environ and the common settings libraries."""
    module = type(error).__module__
    text = str(error)
    last = frames[-1] if frames else None
    from_environ = last and last.name == "__getitem__" and last.filename in ("<frozen os>", os.__file__)
    if isinstance(error, KeyError) and from_environ:
        return str(error.args[0]) if error.args else None
    if module.startswith("environs"):
        match = re.search(r"[Ee]nvironment variable \"?'?([\w.-]+)", text)
        return match[1] if match else None
    if module.startswith("decouple"):
        match = re.match(r"([\w.-]+) not found", text)
        return match[1] if match else None
    if type(error).__name__ == "ValidationError" and any("pydantic_settings" in f.filename for f in frames):
        missing = re.findall(r"^(\w+)\n\s+Field required", text, re.MULTILINE)
        return ", ".join(missing) or None
    return None


def interface(value, variable):
    """How Vercel's runtime would serve the variable, or why it cannot (vercel_runtime.resolver's rules)."""
    from http.server import BaseHTTPRequestHandler

    if (
        variable.lower() == "handler"
        and isinstance(value, type)
        and issubclass(value, BaseHTTPRequestHandler)
    ):
        return "handler", None
    if callable(getattr(value, "asgi", None)):
        return "asgi", None
    try:
        parameters = inspect.signature(value).parameters.values()
        positional = sum(
            1
            for p in parameters
            if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        )
    except (TypeError, ValueError):
        positional = None
    call = value.__call__ if callable(value) else None
    is_async = inspect.iscoroutinefunction(value) or inspect.iscoroutinefunction(call)
    if is_async and positional == 3:
        return "asgi", None
    if positional == 2:
        return "wsgi", None
    return None, "it is neither a WSGI app (environ, start_response) nor an ASGI app (scope, receive, send)"


def static_folders(app):
    """Where a Flask app and its blueprints serve static files from, as set (the folder may be absent)."""
    try:
        owners = [("the app", app), *((f"blueprint {name!r}", bp) for name, bp in app.blueprints.items())]
        found = []
        for owner, scaffold in owners:
            if scaffold.static_folder is None:
                continue
            module = sys.modules.get(scaffold.import_name)
            found.append(
                {
                    "owner": owner,
                    "folder": os.path.normpath(scaffold.static_folder),
                    "url": scaffold.static_url_path,
                    "module_file": getattr(module, "__file__", None),
                }
            )
        return found
    except Exception:  # noqa: BLE001 (not a Flask app: nothing to say about static files)
        return []


def import_flask():
    """`import flask` alone, timed in ms (None without Flask): the yardstick for a slow import."""
    started = time.perf_counter()
    try:
        import flask  # noqa: F401
    except Exception:  # noqa: BLE001 (missing or broken: the entry's import will say so)
        return None
    return round((time.perf_counter() - started) * 1000, 1)


def main(config_path):
    with open(config_path) as file:
        config = json.load(file)
    report = {"error": None, "events": [], "loaded_modules": [], "app_type": None}
    stack_file = open(config["stack"], "w")  # noqa: SIM115 (written by faulthandler if the import hangs)
    faulthandler.dump_traceback_later(config["timeout"], exit=True, file=stack_file)
    report["shadowed"] = shadowed_modules(config)
    modules_before = set(sys.modules)
    report["flask_ms"] = import_flask()
    guard = Guard(config)
    sys.meta_path.insert(0, DriverConnectWatch(guard))
    watch_threads(guard)
    sys.path.insert(0, config["root"])
    sys.addaudithook(guard.hook)
    sys.stderr.write("@@doctor: importing the entrypoint@@\n")
    sys.stderr.flush()
    started = time.perf_counter()
    module = None
    try:
        path = os.path.join(config["root"], config["file"])
        spec = importlib.util.spec_from_file_location(config["module"], path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[config["module"]] = module
        spec.loader.exec_module(module)
    except BaseException as error:  # noqa: BLE001 (the import's failure is the finding)
        report["error"] = describe_error(error, guard, config)
        module = None
    guard.recording = False
    # Flask came first, alone: the entry's import time includes it, as on Vercel.
    report["import_ms"] = round((time.perf_counter() - started) * 1000 + (report["flask_ms"] or 0), 1)
    faulthandler.cancel_dump_traceback_later()
    report["events"] = guard.events
    report["loaded_modules"] = sorted({name.partition(".")[0] for name in set(sys.modules) - modules_before})
    if module is not None:
        variable = config["variable"]
        if hasattr(module, variable):
            value = getattr(module, variable)
            report["app_type"] = f"{type(value).__module__}.{type(value).__qualname__}"
            report["interface"], report["interface_problem"] = interface(value, variable)
            report["static_folders"] = static_folders(value)
        else:
            report["missing_variable"] = True
    with open(config["report"], "w") as file:
        json.dump(report, file)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # threads or atexit handlers the app started must not keep the process alive


if __name__ == "__main__":
    main(sys.argv[1])

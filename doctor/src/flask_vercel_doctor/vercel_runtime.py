"""Play the Vercel platform for a project's function: start it the way Vercel does and send it requests.

Vercel's Python runtime (`vercel_runtime.vc_init`, from the `vercel-runtime` package) starts the app in a
fresh process, then reports to the platform over the Unix socket named by VERCEL_IPC_PATH: NUL-terminated
JSON messages such as `server-started` (with the HTTP port and the init duration) or `unrecoverable-error`
(what users see as 500 FUNCTION_INVOCATION_FAILED). Here the caller is the platform.

- `start_project(root, python=...)` runs the project's sources with an interpreter that has its dependencies
  and `vercel-runtime`, serving the file and variable Vercel's builder would pick (see entrypoint.py).
- `start_built_function(func_dir, project_root=..., python=...)` runs the output of `vercel build` with a
  bare interpreter: everything the app imports must come from the bundle.

Both run read-only by default (the project tree is read-only on Vercel) in an environment holding only PATH
plus what the caller passes. Standard library only.
"""

import base64
import contextlib
import functools
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from .entrypoint import resolve
from .project import Project

START_TIMEOUT = 60

# Run by the function's interpreter, by path: what the trampoline `vercel build` writes does, for
# sources; and the platform's import of a built function's handler.
LAUNCH_SOURCE = Path(__file__).with_name("launch_source.py")
LAUNCH_BUILT = Path(__file__).with_name("launch_built.py")
# Where Vercel unpacks a function; built functions run there when a mount namespace is available.
TASK_ROOT = "/var/task"

# Prefix for a command: in a private mount namespace, mounts the directory given first read-only at the
# path given second (the same path for a project; /var/task for a built function), cd's there, runs it.
REMOUNT_READ_ONLY = "; ".join(
    [
        "set -e",
        'mkdir -p "$2"',
        'mount --bind "$1" "$2"',
        'mount -o remount,bind,ro "$2"',
        'cd "$2"',
        "shift 2",
    ]
    + ['exec "$@"']
)
READ_ONLY = ["unshare", "--mount", "--propagation", "private", "sh", "-c", REMOUNT_READ_ONLY, "read-only"]


class FunctionFailed(AssertionError):
    """The function died, reported an unrecoverable error or did not answer; says what it printed."""


class ReadOnlyUnavailable(RuntimeError):
    """This machine cannot make a directory read-only for one process (needs root and mount namespaces)."""


class Response:
    def __init__(self, status, body, headers=None):
        self.status = status
        self.body = body
        self.headers = (
            headers if headers is not None else http.client.HTTPMessage()
        )  # case-insensitive .get()

    def json(self):
        return json.loads(self.body)


class RunningFunction:
    """A function that announced `server-started`; `init_duration_ms` is the runtime's own figure."""

    def __init__(self, process, messages, output_dir):
        self.process = process
        self.messages = messages
        self.output_dir = output_dir
        self.port = None
        self.init_duration_ms = None

    def alive(self):
        return self.process.poll() is None

    def stderr(self):
        return (self.output_dir / "stderr").read_text(errors="replace")

    def logs(self):
        """What the app printed once the runtime took over its output: the runtime sends it over IPC."""
        chunks = [m["payload"]["message"] for m in self.messages.items if m["type"] == "log"]
        return "".join(base64.b64decode(chunk).decode(errors="replace") for chunk in chunks)

    def connect(self):
        """A connection to the function, open now: pass it to `request` to send a request on it later.

        The runtime's server accepts few connections at a time (a listen backlog of 5): opening many
        first, one after the other, then sending on all of them is how to have many requests at once.
        """
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.connect()
        return connection

    def request(self, method, path, body=None, headers=None, connection=None, wait_for_end=True):
        """Send a request as Vercel's proxy does and wait until the runtime reports its end.

        ``wait_for_end=False`` returns with the response, as a client sees it (load tests).
        """
        invocation_id = uuid.uuid4().hex
        all_headers = {
            "host": "localhost",
            "x-forwarded-proto": "https",
            "x-forwarded-for": "127.0.0.1",
            "x-real-ip": "127.0.0.1",
            "x-vercel-internal-invocation-id": invocation_id,
            "x-vercel-internal-request-id": invocation_id[:8],
        }
        if body is not None:
            body = json.dumps(body).encode()
            all_headers["content-type"] = "application/json"
        all_headers.update(headers or {})
        connection = connection or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            result = Response(response.status, response.read(), response.headers)
        except (OSError, http.client.HTTPException) as error:
            raise self.failure(f"{method} {path} got no response: {error!r}") from error
        finally:
            connection.close()
        if wait_for_end and not self.messages.wait_for_end(invocation_id, 5):
            raise self.failure(f"the runtime never reported the end of {method} {path}")
        return result

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def failure(self, what):
        return FunctionFailed(
            f"{what} (exit code {self.process.poll()})\n--- function stderr ---\n{self.stderr()}"
        )

    def wait_until_started(self, timeout):
        started = self.messages.wait_for(
            lambda m: m["type"] in ("server-started", "unrecoverable-error"), timeout, self.alive
        )
        if started is None:
            reason = "exited" if not self.alive() else f"did not start within {timeout} s"
            raise self.failure(f"the function {reason} before announcing server-started")
        payload = started.get("payload") or {}
        if started["type"] == "unrecoverable-error":
            raise self.failure(f"unrecoverable-error: {payload.get('message')}")
        self.port = payload["httpPort"]
        self.init_duration_ms = payload.get("initDuration")


def invoked(message):
    return ((message.get("payload") or {}).get("context") or {}).get("invocationId")


class Messages:
    """Listens on the IPC socket and keeps every JSON message the runtime sends."""

    def __init__(self, path):
        self.path = path
        self.items = []
        self.ended = set()  # invocation ids the runtime reported the end of
        self.changed = threading.Condition()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        with contextlib.suppress(OSError):
            while True:
                connection, _ = self.listener.accept()
                threading.Thread(target=self.read, args=(connection,), daemon=True).start()

    def read(self, connection):
        buffer = b""
        with connection, contextlib.suppress(OSError):
            while chunk := connection.recv(65536):
                *messages, buffer = (buffer + chunk).split(b"\0")
                with self.changed:
                    for message in map(json.loads, messages):
                        self.items.append(message)
                        if message["type"] == "end":
                            self.ended.add(invoked(message))
                    self.changed.notify_all()

    def wait_for(self, predicate, timeout, still_worth_waiting=lambda: True):
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = next((m for m in self.items if predicate(m)), None)
                if found or time.monotonic() > deadline or not still_worth_waiting():
                    return found
                self.changed.wait(0.05)

    def wait_for_end(self, invocation_id, timeout):
        """Whether the runtime reported the end of that invocation within ``timeout`` seconds."""
        with self.changed:
            return self.changed.wait_for(lambda: invocation_id in self.ended, timeout)

    def close(self):
        self.listener.close()


@functools.cache
def read_only_unavailable():
    """Why a read-only run is impossible here, or None when it works (probed once with a real write)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return "a read-only project tree needs root and util-linux `unshare` (a private mount namespace)"
    with tempfile.TemporaryDirectory() as probe:
        result = subprocess.run(
            [*READ_ONLY, probe, probe, "sh", "-c", ": > written"], capture_output=True, text=True
        )
        if "Read-only file system" in result.stderr and not Path(probe, "written").exists():
            return None
        return f"cannot mount the project tree read-only here: {result.stderr.strip() or 'writes still work'}"


@contextlib.contextmanager
def launch(argv, task_dir, env, read_only, mount_at=None):
    """Run ``argv`` in ``task_dir`` (read-only: mounted at ``mount_at``, by default where it is)."""
    if read_only:
        if reason := read_only_unavailable():
            raise ReadOnlyUnavailable(reason)
        argv = [*READ_ONLY, task_dir, mount_at or task_dir, *argv]
    with tempfile.TemporaryDirectory(prefix="vercel-platform-") as scratch:
        output_dir = Path(scratch)
        messages = Messages(str(output_dir / "ipc.sock"))
        env = {"PATH": os.environ.get("PATH", os.defpath), **env, "VERCEL_IPC_PATH": messages.path}
        with open(output_dir / "stderr", "wb") as stderr:
            process = subprocess.Popen(
                argv, cwd=task_dir, env=env, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr
            )
        function = RunningFunction(process, messages, output_dir)
        try:
            function.wait_until_started(START_TIMEOUT)
            yield function
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            messages.close()


def start_project(root, *, python, env=None, read_only=True):
    """Start the project at `root` from source, as Vercel would, with `python` (a venv with its deps).

    Serves the file and variable Vercel's builder resolves (FunctionFailed when it resolves none).
    PYTHONDONTWRITEBYTECODE keeps __pycache__ out of the project; `--check-hash-based-pycs always` makes
    Python ignore stale unchecked-hash .pyc files a local `vercel build` may have left next to the sources.
    """
    root = str(Path(root).resolve())
    resolution = resolve(Project(root))
    if resolution.entrypoint is None:
        raise FunctionFailed("Vercel would serve nothing here:\n" + "\n".join(map(str, resolution.findings)))
    entry = resolution.entrypoint
    launcher = [LAUNCH_SOURCE, root, entry.file, entry.module, entry.variable]
    argv = [str(python), "--check-hash-based-pycs", "always", *map(str, launcher)]
    return launch(argv, root, {"PYTHONDONTWRITEBYTECODE": "1", **(env or {})}, read_only)


def function_config(func_dir):
    return json.loads((Path(func_dir) / ".vc-config.json").read_text())


def assemble_bundle(func_dir, project_root, task_dir):
    """Lay the function out as Vercel does in /var/task: its own files plus every file of its filePathMap."""
    func_dir, task_dir = Path(func_dir), Path(task_dir)
    shutil.copytree(func_dir, task_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".vc-config.json"))
    for bundle_path, source in function_config(func_dir).get("filePathMap", {}).items():
        (task_dir / bundle_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(project_root) / source, task_dir / bundle_path)


@contextlib.contextmanager
def start_built_function(func_dir, *, project_root, python, env=None, read_only=True):
    """Start a function made by `vercel build` with a bare interpreter of its Python version.

    `-S -s` keeps the interpreter's own site-packages away, so only the bundle's `_vendor` is importable;
    the environment is the function's own (from .vc-config.json). Read-only, the bundle is mounted at
    /var/task, its path on Vercel; otherwise it runs where it was assembled, /var/task replaced by that.
    """
    config = function_config(func_dir)
    with tempfile.TemporaryDirectory(prefix="vercel-task-") as task_dir:
        assemble_bundle(func_dir, project_root, task_dir)
        root = TASK_ROOT if read_only else task_dir
        function_env = {key: value.replace(TASK_ROOT, root) for key, value in config["environment"].items()}
        handler_module = config["handler"].rsplit(".", 1)[0]
        argv = [str(python), "-S", "-s", str(LAUNCH_BUILT), root, handler_module]
        with launch(argv, task_dir, {**function_env, **(env or {})}, read_only, mount_at=root) as function:
            yield function

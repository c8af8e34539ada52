"""A PostgreSQL server for the tests: the one in TEST_DATABASE_URL, or a throwaway one.

The throwaway server is a fresh cluster in a temporary directory, on 127.0.0.1 and a free
port, tuned for speed (no fsync). PostgreSQL refuses to run as root, so as root it runs as
the `postgres` user. The kernel kills it if the process that started it dies (setpriv's
--pdeathsig), so no server outlives the tests, even after a SIGKILL.
"""

import atexit
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from urllib.parse import urlsplit

import psycopg

from .commands import free_port

SERVER_USER = "postgres"  # the OS user the server runs as when we are root
HOST = "127.0.0.1"
SETTINGS = {
    "listen_addresses": HOST,
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "max_connections": "300",  # racing processes × workers, with room to spare
    "log_min_messages": "warning",
}
STOP_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be had; the message says why and what to do."""


def postgres_required():
    """REQUIRE_POSTGRES=1 (set by .ci/run): a missing server is a failure, not a skip."""
    return os.environ.get("REQUIRE_POSTGRES", "") == "1"


def start_server():
    """The server TEST_DATABASE_URL names, or a new throwaway one."""
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    return ExternalPostgres(url) if url else LocalPostgres().start()


def libpq_url(url):
    """``postgresql+psycopg://...`` (SQLAlchemy's spelling) as libpq wants it."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith(("postgres", "postgresql")) else url


def sqlalchemy_url(url, driver):
    """A libpq URL (``postgres://`` or ``postgresql://``) with SQLAlchemy's name for ``driver``."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+{driver}://{rest}" if scheme in ("postgres", "postgresql") else url


def execute(url, sql):
    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=10) as connection:
        connection.execute(sql)


def query(url, sql):
    """The rows ``sql`` returns from the database at ``url``."""
    with psycopg.connect(libpq_url(url), connect_timeout=10) as connection:
        return connection.execute(sql).fetchall()


def as_server_user(as_root):
    """A command prefix: run as the server user when we are root, and die with this process.

    setpriv's --pdeathsig sets PR_SET_PDEATHSIG, so the kernel kills the server if its owner dies.
    PostgreSQL and PgBouncer both refuse to run as root.
    """
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise PostgresUnavailable("setpriv (util-linux) is needed to start a throwaway server")
    if not as_root:
        return [setpriv, "--pdeathsig", "KILL", "--"]
    user = server_user()
    uid, gid = str(user.pw_uid), str(user.pw_gid)
    return [setpriv, "--reuid", uid, "--regid", gid, "--init-groups", "--pdeathsig", "KILL", "--"]


def server_user():
    """The OS user a throwaway server runs as when we are root."""
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"PostgreSQL and PgBouncer refuse to run as root and there is no '{SERVER_USER}' user to run"
            f" them as: create one (useradd --system {SERVER_USER}) or set TEST_DATABASE_URL"
        ) from None


def stop_process(process, sig=signal.SIGTERM, timeout=30):
    """Send ``sig`` and wait; kill the process if it is still there after ``timeout`` seconds."""
    if process is not None and process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class ConnectionWatch:
    """While it runs, samples how many connections the server has open to ``database_url``'s database
    (its own one aside); ``peak`` is the most seen at once."""

    def __init__(self, database_url, every=0.01):
        self.database = urlsplit(database_url).path.lstrip("/")
        self.server_url = database_url
        self.every = every
        self.peak = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
        with psycopg.connect(libpq_url(self.server_url), autocommit=True) as connection:
            while not self.stopped.wait(self.every):
                self.peak = max(self.peak, connection.execute(sql, (self.database,)).fetchone()[0])

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        self.thread.join()


class Server:
    """What both kinds of server offer: throwaway databases on it."""

    url = ""
    can_restart = False

    def create_database(self, copy_of=None):
        """A new database, empty or a copy of the one at ``copy_of`` (which nobody may be connected to)."""
        name = f"test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
        template = f' TEMPLATE "{urlsplit(copy_of).path.lstrip("/")}"' if copy_of else ""
        execute(self.url, f'CREATE DATABASE "{name}"{template}')
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def drop_database(self, url):
        """Drop the database at ``url``, closing whatever connections it still has."""
        name = urlsplit(url).path.lstrip("/")
        execute(self.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class ExternalPostgres(Server):
    """A server the user runs; used as-is, never stopped."""

    def __init__(self, url):
        self.url = url
        try:
            execute(url, "SELECT 1")
        except psycopg.Error as error:
            safe = url.replace(urlsplit(url).password or "\0", "***")
            raise PostgresUnavailable(f"TEST_DATABASE_URL={safe} is set, but: {error}") from None

    def close(self):
        pass


class LocalPostgres(Server):
    """A private cluster: ``stop()``/``start()`` keep data and port; ``close()`` deletes it."""

    can_restart = True

    def __init__(self):
        self.port = None
        self.directory = None
        self.process = None
        self.as_root = os.geteuid() == 0

    @property
    def url(self):
        return f"postgresql://postgres@{HOST}:{self.port}/postgres"

    def start(self):
        if self.directory is None:
            self._init_cluster()
        if self.port is not None:
            self._launch()
            return self
        for _ in range(5):  # another process may take the free port before the server binds it
            self.port = free_port(HOST)
            if self._launch():
                return self
        self.close()
        raise PostgresUnavailable("no free port for PostgreSQL after 5 tries")

    def stop(self, mode="fast"):
        """Stop the server. "immediate" loses the last commits (synchronous_commit is off)."""
        process, self.process = self.process, None
        stop_process(process, STOP_SIGNALS[mode])  # setpriv execs: the child is the postmaster

    def close(self):
        self.stop("immediate")
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
        atexit.unregister(self.close)

    def _init_cluster(self):
        missing = [name for name in ("initdb", "postgres") if shutil.which(name) is None]
        if missing:
            raise PostgresUnavailable(
                f"{' and '.join(missing)} not found on PATH: install the PostgreSQL server"
                " (apt-get install postgresql) or set TEST_DATABASE_URL to an empty database you run"
            )
        user = server_user() if self.as_root else None
        # Short, under /tmp: the socket path must fit in ~107 bytes.
        self.directory = tempfile.mkdtemp(prefix="pgtest-", dir="/tmp")
        atexit.register(self.close)
        os.mkdir(self._path("sock"))
        if self.as_root:
            for path in (self.directory, self._path("sock")):
                os.chown(path, user.pw_uid, user.pw_gid)
        command = [
            *as_server_user(self.as_root),
            "initdb",
            "-D",
            self._path("data"),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ]
        result = subprocess.run(command, env=self._env(), capture_output=True, text=True, timeout=180)
        if result.returncode != 0:
            self.close()
            raise PostgresUnavailable(f"initdb failed ({result.returncode}): {result.stderr.strip()}")

    def _launch(self):
        """Start the server; False if the port was taken meanwhile."""
        options = {**SETTINGS, "port": self.port, "unix_socket_directories": self._path("sock")}
        command = [*as_server_user(self.as_root), "postgres", "-D", self._path("data")]
        for key, value in options.items():
            command += ["-c", f"{key}={value}"]
        with open(self._path("postgres.log"), "w") as log:
            self.process = subprocess.Popen(
                command,
                env=self._env(),
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while not self._accepts_connections():
            if self.process.poll() is not None:
                self.process = None
                with open(self._path("postgres.log")) as log_file:
                    log = log_file.read()
                if "could not bind" in log:
                    return False
                raise PostgresUnavailable(f"postgres exited while starting:\n{log[-2000:]}")
            if time.monotonic() > deadline:
                self.stop("immediate")
                raise PostgresUnavailable("postgres did not accept connections within 60 s")
            time.sleep(0.02)
        return True

    def _accepts_connections(self):
        try:
            psycopg.connect(self.url, connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def _path(self, name):
        return os.path.join(self.directory, name)

    def _env(self):
        # The user's PGHOST, PGPORT, PGDATA... must not steer our private server.
        return {key: value for key, value in os.environ.items() if not key.startswith("PG")} | {"LC_ALL": "C"}


def main():
    """``python -m template_tools.postgres``: a throwaway server until stdin closes (or the owner dies).

    Prints one line, ``PID DIRECTORY URL``, once it accepts connections.
    """
    server = LocalPostgres().start()
    print(server.process.pid, server.directory, server.url, flush=True)
    try:
        sys.stdin.read()
    finally:
        server.close()


if __name__ == "__main__":
    main()

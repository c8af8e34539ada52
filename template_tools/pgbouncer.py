"""A transaction-mode pooler for the tests: the one in TEST_POOLER_URL, or a throwaway PgBouncer.

Neon's pooled URL is PgBouncer in transaction mode and Supabase's is Supavisor in transaction
mode: a client's consecutive transactions may run on different server connections, so nothing
that lives in a session (prepared statements, session advisory locks, SET) survives. The
throwaway PgBouncer sits in front of the suite's PostgreSQL server (local or TEST_DATABASE_URL)
with a server pool of 2 per database, so that clients really share server connections.

Debian's ``pgbouncer`` package provides it. Where it is missing and REQUIRE_POSTGRES=1 (CI), the
suite installs it with apt-get (as root); otherwise the tests that need it skip with the reason.
Like PostgreSQL, PgBouncer refuses to run as root: as root it runs as the `postgres` user, and
dies with the process that started it.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg

from .commands import free_port
from .environments import CACHE_DIR, locked
from .postgres import (
    HOST,
    PostgresUnavailable,
    as_server_user,
    libpq_url,
    postgres_required,
    server_user,
    stop_process,
)

SERVER_POOL_SIZE = 2  # server connections per database and user: many clients must share them
SETTINGS = {
    "listen_addr": HOST,
    "unix_socket_dir": "",  # TCP only, like a provider's pooler
    "auth_type": "trust",
    "pool_mode": "transaction",
    "default_pool_size": SERVER_POOL_SIZE,
    "min_pool_size": 0,
    "reserve_pool_size": 0,
    "max_client_conn": 1000,  # racing processes × their pools, with room to spare
    # Startup parameters psycopg or SQLAlchemy may send that PgBouncer would otherwise refuse.
    "ignore_startup_parameters": "extra_float_digits,options",
}
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}


def with_address(url, netloc, database=None):
    """``url`` sent to another user@host:port (``netloc``), keeping its database unless one is given."""
    scheme, _, path, query, fragment = urlsplit(url)
    return urlunsplit((scheme, netloc, f"/{database}" if database else path, query, fragment))


def start_pooler(server):
    """The pooler TEST_POOLER_URL names (it must sit in front of ``server``), or a new PgBouncer."""
    url = os.environ.get("TEST_POOLER_URL", "").strip()
    if url:
        if server.can_restart:
            raise PostgresUnavailable(
                "TEST_POOLER_URL is set but TEST_DATABASE_URL is not: set TEST_DATABASE_URL to the server"
                " that pooler sits in front of, so the tests can create databases on it"
            )
        return ExternalPooler(url)
    return LocalPgBouncer(server).start()


class Pooler:
    """What both kinds of pooler offer: the pooled URL of a database on the server behind them."""

    netloc = ""

    def pooled_url(self, database_url):
        """The URL that reaches ``database_url``'s database through this pooler."""
        return with_address(database_url, self.netloc)

    def close(self):
        pass


class ExternalPooler(Pooler):
    """A transaction-mode pooler the user runs; it must reach every database of the server by name."""

    def __init__(self, url):
        self.url = url
        self.netloc = urlsplit(url).netloc
        try:
            with psycopg.connect(libpq_url(url), connect_timeout=10, prepare_threshold=None) as connection:
                connection.execute("SELECT 1")
        except psycopg.Error as error:
            safe = url.replace(urlsplit(url).password or "\0", "***")
            raise PostgresUnavailable(f"TEST_POOLER_URL={safe} is set, but: {error}") from None


def find_pgbouncer():
    """The pgbouncer binary; installed with apt-get first when CI requires it and it is missing."""
    found = shutil.which("pgbouncer")
    if found or not postgres_required():
        return found
    apt_get = shutil.which("apt-get")
    if apt_get is None or os.geteuid() != 0:
        return None
    with locked(CACHE_DIR / "pgbouncer-install"):  # pytest-xdist workers arrive together
        if not shutil.which("pgbouncer"):
            env = {**os.environ, **APT_ENV}
            install = ["install", "-y", "-q", "--no-install-recommends", "pgbouncer"]
            for command in (["update", "-q"], install):  # the package lists first, as on a fresh machine
                result = subprocess.run(
                    [apt_get, "-o", "DPkg::Lock::Timeout=300", *command],
                    env=env, capture_output=True, text=True, timeout=900,
                )  # fmt: skip
                if result.returncode != 0:
                    stderr = result.stderr[-2000:]
                    raise PostgresUnavailable(f"apt-get {command[0]} for pgbouncer failed:\n{stderr}")
    return shutil.which("pgbouncer")


class LocalPgBouncer(Pooler):
    """A private PgBouncer in front of ``server``; ``close()`` stops it and deletes its directory."""

    def __init__(self, server):
        self.server = server
        self.port = None
        self.directory = None
        self.process = None
        self.as_root = os.geteuid() == 0

    @property
    def netloc(self):
        user = urlsplit(self.server.url).username
        return f"{user}@{HOST}:{self.port}"

    def start(self):
        binary = find_pgbouncer()
        if binary is None:
            how = "it installs itself when REQUIRE_POSTGRES=1 and apt-get can run as root"
            raise PostgresUnavailable(
                "pgbouncer not found on PATH: install it (apt-get install pgbouncer) or set TEST_POOLER_URL"
                f" to a transaction-mode pooler in front of TEST_DATABASE_URL's server ({how})"
            )
        self.directory = tempfile.mkdtemp(prefix="pgbouncer-", dir="/tmp")
        try:
            for _ in range(5):  # another process may take the free port before PgBouncer binds it
                self.port = free_port(HOST)
                self._write_config()
                if self._launch(binary):
                    return self
            raise PostgresUnavailable("no free port for PgBouncer after 5 tries")
        except BaseException:
            self.close()
            raise

    def close(self):
        process, self.process = self.process, None
        stop_process(process, timeout=10)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def admin(self, command):
        """Rows of an admin console command (``SHOW POOLS``, ``SHOW SERVERS``...)."""
        url = with_address(self.server.url, self.netloc, database="pgbouncer")
        # The admin console speaks only the simple query protocol: a client-side cursor.
        client_side = psycopg.ClientCursor
        with psycopg.connect(libpq_url(url), autocommit=True, cursor_factory=client_side) as connection:
            cursor = connection.execute(command)
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _write_config(self):
        server = urlsplit(self.server.url)
        settings = {
            **SETTINGS,
            "listen_port": self.port,
            "auth_file": self._path("users.txt"),
            "admin_users": server.username,
            "logfile": self._path("pgbouncer.log"),
            "pidfile": self._path("pgbouncer.pid"),
        }
        lines = ["[databases]", f"* = host={server.hostname} port={server.port or 5432}", "", "[pgbouncer]"]
        lines += [f"{key} = {value}" for key, value in settings.items()]
        with open(self._path("pgbouncer.ini"), "w") as config:
            config.write("\n".join(lines) + "\n")
        # Trust for clients; the password, if any, is what PgBouncer logs in to the server with.
        with open(self._path("users.txt"), "w") as users:
            users.write(f'"{server.username}" "{server.password or ""}"\n')
        if self.as_root:
            user = server_user()
            for name in ("", "pgbouncer.ini", "users.txt"):
                os.chown(self._path(name), user.pw_uid, user.pw_gid)

    def _launch(self, binary):
        """Start PgBouncer; False if the port was taken meanwhile."""
        command = [*as_server_user(self.as_root), binary, self._path("pgbouncer.ini")]
        self.process = subprocess.Popen(
            command, cwd=self.directory, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not self._accepts_connections():
            if self.process.poll() is not None:
                self.process = None
                log = self._log()
                if "Address already in use" in log:
                    return False
                raise PostgresUnavailable(f"pgbouncer exited while starting:\n{log[-2000:]}")
            if time.monotonic() > deadline:
                raise PostgresUnavailable(f"pgbouncer did not accept connections within 30 s:\n{self._log()}")
            time.sleep(0.05)
        return True

    def _accepts_connections(self):
        try:
            self.admin("SHOW VERSION")
        except psycopg.OperationalError:
            return False
        return True

    def _log(self):
        try:
            with open(self._path("pgbouncer.log")) as log:
                return log.read()
        except FileNotFoundError:
            return ""

    def _path(self, name):
        return os.path.join(self.directory, name)


def main():
    """``python -m template_tools.pgbouncer``: a throwaway PostgreSQL and PgBouncer until stdin closes.

    Prints one line, ``DIRECT_URL POOLED_URL``, once both accept connections.
    """
    from .postgres import start_server

    server = start_server()
    try:
        pooler = start_pooler(server)
        try:
            print(server.url, pooler.pooled_url(server.url), flush=True)
            sys.stdin.read()
        finally:
            pooler.close()
    finally:
        server.close()


if __name__ == "__main__":
    main()

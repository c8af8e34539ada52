"""A TCP relay between an app and PostgreSQL that counts round trips and can add network latency.

A round trip is the client speaking after the server has spoken (or first): a query and its
answer, however many packets each takes. Statements a driver pipelines without waiting for an
answer count once. With ``delay`` every chunk in each direction is held that long (in order),
standing in for a database in another building or region: a round trip then costs ``2 * delay``.
"""

import queue
import socket
import threading
import time


class RoundTripRelay:
    """``with RoundTripRelay(port) as relay:`` connect to ``relay.port`` instead of ``port``."""

    def __init__(self, target_port, target_host="127.0.0.1", delay=0.0):
        self.target = (target_host, target_port)
        self.delay = delay
        self.round_trips = 0
        self.connections = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets = []

    def __enter__(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc_info):
        self._listener.close()
        for sock in self._sockets:
            sock.close()

    def url(self, database_url):
        """``database_url`` with its host and port replaced by the relay's."""
        scheme, rest = database_url.split("://", 1)
        credentials, _, location = rest.rpartition("@")
        _, _, path = location.partition("/")
        user = f"{credentials}@" if credentials else ""
        return f"{scheme}://{user}127.0.0.1:{self.port}/{path}"

    def count(self):
        """Round trips since the relay started (read it before and after the work to measure)."""
        with self._lock:
            return self.round_trips

    def _accept(self):
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets += [client, server]
            with self._lock:
                self.connections += 1
            state = {"last": None}
            for source, target, direction in ((client, server, "out"), (server, client, "in")):
                chunks = queue.Queue()
                threading.Thread(
                    target=self._read, args=(source, chunks, state, direction), daemon=True
                ).start()
                threading.Thread(target=self._write, args=(target, chunks), daemon=True).start()

    def _read(self, source, chunks, state, direction):
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if data and direction == "out":
                with self._lock:
                    if state["last"] != "out":
                        self.round_trips += 1
                    state["last"] = "out"
            elif data:
                state["last"] = "in"
            chunks.put((time.monotonic() + self.delay, data))
            if not data:
                return

    def _write(self, target, chunks):
        while True:
            due, data = chunks.get()
            if (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            try:
                if not data:
                    target.shutdown(socket.SHUT_WR)
                    return
                target.sendall(data)
            except OSError:
                return

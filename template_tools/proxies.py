"""TCP stand-ins for a database server as a serverless provider runs it, on loopback.

A `Proxy` listens on 127.0.0.1 and a free port and serves each accepted connection on a thread of
its own with `handle(client)`; `relay(client)` connects to the real server (`upstream`) and copies
bytes both ways until either side closes, passing each chunk through `forward(data, destination,
from_client)`. A new stand-in is a subclass that overrides `handle` (when to relay, or not at all)
or `forward` (what happens to the bytes on the way: count them, delay them...).

- `WakingDatabase(upstream, wake_after)`: a compute that scales to zero. It accepts at once, but the
  server's first bytes only come `wake_after` seconds after the first connection attempt (the
  wake-up); connections made after that pass at once.
- `NeverAnswering()`: accepts connections and never says a word (a hung server or network).

Use them as context managers; `url(database_url)` is that URL sent through the stand-in.
"""

import contextlib
import selectors
import socket
import threading
import time
from urllib.parse import urlsplit, urlunsplit

HOST = "127.0.0.1"
CHUNK = 65536


class Proxy:
    """A loopback TCP server standing in for the database at ``upstream`` (host, port) or None."""

    def __init__(self, upstream=None):
        self.upstream = upstream
        self.listener = socket.create_server((HOST, 0))
        self.port = self.listener.getsockname()[1]
        self.closed = threading.Event()
        self.connections = []  # every socket we opened or accepted, closed with the proxy
        self.lock = threading.Lock()

    @classmethod
    def in_front_of(cls, database_url, **options):
        """A stand-in for the server ``database_url`` names."""
        parts = urlsplit(database_url)
        return cls(upstream=(parts.hostname, parts.port or 5432), **options)

    def url(self, database_url):
        """``database_url`` with its host and port replaced by the proxy's."""
        scheme, netloc, path, query, fragment = urlsplit(database_url)
        user = netloc.rpartition("@")[0]
        address = f"{HOST}:{self.port}"
        return urlunsplit((scheme, f"{user}@{address}" if user else address, path, query, fragment))

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def close(self):
        self.closed.set()
        self.listener.close()
        with self.lock:
            for connection in self.connections:
                connection.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.close()

    def handle(self, client):
        """Serve one accepted connection (on its own thread): by default, relay it at once."""
        self.relay(client)

    def forward(self, data, destination, from_client):
        """Pass one chunk on; ``from_client`` tells the direction."""
        destination.sendall(data)

    def relay(self, client):
        """Connect to the upstream server and copy bytes both ways until either side closes."""
        upstream = self._track(socket.create_connection(self.upstream, timeout=10))
        upstream.settimeout(None)
        peers = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            for sock in peers:
                selector.register(sock, selectors.EVENT_READ)
            with contextlib.suppress(OSError):
                while not self.closed.is_set():
                    for key, _ in selector.select(timeout=0.5):
                        data = key.fileobj.recv(CHUNK)
                        if not data:
                            return
                        self.forward(data, peers[key.fileobj], from_client=key.fileobj is client)

    def _accept(self):
        with contextlib.suppress(OSError):
            while not self.closed.is_set():
                client, _ = self.listener.accept()
                self._track(client)
                threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        try:
            self.handle(client)
        except OSError:
            pass  # the client gave up, or the proxy closed: nothing to report
        finally:
            client.close()

    def _track(self, sock):
        with self.lock:
            self.connections.append(sock)
        return sock


class WakingDatabase(Proxy):
    """A scaled-to-zero compute: answers only ``wake_after`` seconds after the first connection attempt."""

    def __init__(self, upstream, wake_after):
        super().__init__(upstream)
        self.wake_after = wake_after
        self.awake_at = None  # set by the first connection: that is what starts the wake-up

    def handle(self, client):
        with self.lock:
            if self.awake_at is None:
                self.awake_at = time.monotonic() + self.wake_after
        # Whatever the client sends meanwhile waits in the socket buffer, as it would at the provider.
        if self.closed.wait(max(0.0, self.awake_at - time.monotonic())):
            return
        self.relay(client)


class NeverAnswering(Proxy):
    """Accepts every connection and never says a word, until the proxy closes."""

    def handle(self, client):
        self.closed.wait()

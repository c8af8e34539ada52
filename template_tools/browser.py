"""A real browser for the tests: Debian's Chromium, headless, driven over the DevTools protocol.

With ``--remote-debugging-pipe`` Chromium reads protocol commands on its fd 3 and writes answers and
events on its fd 4, one JSON message per NUL-terminated chunk, so the standard library is enough.
The flags are the ones that work here as root on a machine whose only network is loopback.
"""

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field

REQUIRED = bool(os.environ.get("CI") or os.environ.get("REQUIRE_BROWSER"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # root cannot use Chromium's sandbox
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps calling Google's hosts, which a closed network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
]
COMMANDS_FD, EVENTS_FD = 3, 4


class BrowserUnavailable(RuntimeError):
    """Chromium is not installed; the message says how to install it."""


# Debian's package first; GitHub's Ubuntu runners come with Google Chrome, which speaks the same protocol.
BROWSERS = ("chromium", "google-chrome")


def chromium():
    path = next(filter(None, map(shutil.which, BROWSERS)), None)
    if path is None:
        raise BrowserUnavailable("no Chromium here: `apt-get install chromium` (.ci/run does when missing)")
    return path


@dataclass
class PageVisit:
    """What loading one page did: its status, what it loaded, what the console said, and a probe's value."""

    status: int | None = None
    responses: dict = field(default_factory=dict)  # URL -> HTTP status of everything the page loaded
    console: list = field(default_factory=list)  # "level: text" for console messages, errors, exceptions
    evaluated: object = None
    screenshot: bytes = b""


class DevTools:
    """One Chromium process and its protocol pipes."""

    def __init__(self, user_data_dir):
        commands_read, self.commands = os.pipe()
        self.events, events_write = os.pipe()
        # Inheritable copies above fds 3 and 4, so that the child's dup2 cannot clobber one with the other.
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (commands_read, events_write)]
        os.close(commands_read)
        os.close(events_write)
        with open(os.devnull, "wb") as quiet:
            actions = [
                (os.POSIX_SPAWN_DUP2, ends[0], COMMANDS_FD),
                (os.POSIX_SPAWN_DUP2, ends[1], EVENTS_FD),
                (os.POSIX_SPAWN_CLOSE, ends[0]),
                (os.POSIX_SPAWN_CLOSE, ends[1]),
                (os.POSIX_SPAWN_DUP2, quiet.fileno(), 1),
                (os.POSIX_SPAWN_DUP2, quiet.fileno(), 2),
            ]
            argv = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"]
            self.pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        for fd in ends:
            os.close(fd)
        self.buffer = b""
        self.pending = []  # events read while waiting for an answer
        self.next_id = 0

    def send(self, method, params=None, session=None, timeout=30):
        """Run one command and return its result (events that arrive meanwhile are kept)."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        answer = self.receive(lambda m: m.get("id") == self.next_id, timeout, keep_others=True)
        if "error" in answer:
            raise RuntimeError(f"{method} failed: {answer['error']}")
        return answer["result"]

    def receive(self, wanted, timeout, keep_others=False):
        """The first message ``wanted`` accepts, from the kept events first, then the pipe."""
        for index, message in enumerate(self.pending):
            if wanted(message):
                return self.pending.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                message = json.loads(raw)
                if wanted(message):
                    return message
                if keep_others or "id" not in message:
                    self.pending.append(message)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.events], [], [], remaining)[0]:
                raise TimeoutError(f"Chromium sent nothing wanted within {timeout} s")
            chunk = os.read(self.events, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium exited")
            self.buffer += chunk

    def close(self):
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            self.send("Browser.close", timeout=5)
        for signal_number in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ChildProcessError, ProcessLookupError):
                for _ in range(50):
                    if os.waitpid(self.pid, os.WNOHANG)[0]:
                        break
                    time.sleep(0.1)
                else:
                    os.kill(self.pid, signal_number)
                    continue
                break
        os.close(self.commands)
        os.close(self.events)


@contextlib.contextmanager
def browser():
    """A headless Chromium for the ``with`` block; raises BrowserUnavailable when there is none."""
    chromium()
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        devtools = DevTools(profile)
        try:
            yield devtools
        finally:
            devtools.close()


def visit(devtools, url, probe, timeout=30):
    """Load ``url`` in a new tab until its load event, then evaluate the JavaScript ``probe``."""
    target = devtools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = devtools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        devtools.send(f"{domain}.enable", session=session)
    devtools.pending.clear()  # what about:blank did is not this page's
    devtools.send("Page.navigate", {"url": url}, session=session)
    loaded = {"sessionId": session, "method": "Page.loadEventFired"}
    devtools.receive(lambda m: loaded.items() <= m.items(), timeout)
    time.sleep(0.2)  # late console messages of the load
    evaluated = devtools.send(
        "Runtime.evaluate", {"expression": probe, "returnByValue": True}, session=session
    )
    shot = devtools.send("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
    page = PageVisit(evaluated=evaluated["result"].get("value"), screenshot=base64.b64decode(shot))
    for message in devtools.pending:
        if message.get("sessionId") == session:
            record(page, message["method"], message.get("params", {}), url)
    devtools.pending.clear()
    devtools.send("Target.closeTarget", {"targetId": target})
    return page


def record(page, method, params, url):
    if method == "Network.responseReceived":
        response = params["response"]
        page.responses[response["url"]] = response["status"]
        if response["url"] == url:
            page.status = response["status"]
    elif method == "Network.loadingFailed":
        page.console.append(f"error: loading failed: {params.get('errorText')}")
    elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
        entry = params["entry"]
        page.console.append(f"{entry['level']}: {entry['text']} ({entry.get('url', '')})")
    elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning", "assert"):
        text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params["args"])
        page.console.append(f"{params['type']}: {text}")
    elif method == "Runtime.exceptionThrown":
        page.console.append(f"exception: {params['exceptionDetails'].get('text')}")

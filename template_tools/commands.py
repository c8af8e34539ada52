"""Running commands: a subprocess that reports everything it printed, git, the copier CLI, ports."""

import os
import socket
import subprocess
import sys
from pathlib import Path

COPIER = Path(sys.executable).with_name("copier")
# Commits made by the tools, with an identity of their own whatever the machine's git config says.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}


def git_env(**extra):
    """The environment as it is now (the suite's Copier settings included), the tools' git identity."""
    return {**os.environ, **GIT_IDENTITY, **extra}


def run(command, *, check=True, **kwargs):
    """Run a command; unless ``check`` is false, a failure raises with everything it printed."""
    kwargs.setdefault("timeout", 600)
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, command))} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


def git(directory, *arguments):
    return run(["git", *arguments], cwd=directory, env=git_env()).stdout


def commit_all(directory, message):
    git(directory, "add", "--all")
    git(directory, "commit", "--quiet", "--no-verify", "--message", message)


def copier(*arguments, cwd=None, check=True, env=None):
    """The copier CLI as a user runs it: no --trust, nothing on stdin; ``env`` adds variables."""
    return run(
        [COPIER, *arguments], cwd=cwd, check=check, env=git_env(**(env or {})), stdin=subprocess.DEVNULL
    )


def free_port(host="127.0.0.1"):
    """A TCP port nobody listens on right now (a race with other processes is still possible)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]

"""What the doctor reports: a severity, where, what, why it breaks on Vercel, and the fix.

Errors break the app on Vercel (exit 1); warnings make it slow or fragile (exit 0). The reasons
and fixes for each kind of problem live here once, whichever pass found it.
"""

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"
IMPORT_FAILS = "Vercel's runtime then answers every request with 500 FUNCTION_INVOCATION_FAILED"
# The kind of the warning for an import that is slow but does nothing wrong.
SLOW_IMPORT = "slow_import"
SYNTAX_FIX = "fix the syntax (`python -m py_compile FILE` shows the error), or save the file as UTF-8"

# kind -> (severity, why it matters on Vercel, the fix)
KINDS = {
    "write": (
        ERROR,
        "the deployed files are read-only on Vercel and only /tmp is writable, so this raises OSError "
        "(Read-only file system) at every cold start",
        "write under tempfile.gettempdir() (/tmp on Vercel), on first use inside a function",
    ),
    "setting": (
        ERROR,
        "Vercel sets only the variables of the project's settings (a .env file is not read there), so "
        "the import fails and every request gets 500 FUNCTION_INVOCATION_FAILED",
        "add the variable to the project's Environment Variables on Vercel (Production and Preview), "
        "or read it with a default and check it where it is used",
    ),
    "server": (
        ERROR,
        "Vercel's runtime serves the app itself; a server started at import never returns, so the "
        "function times out",
        'move the call under `if __name__ == "__main__":` (or use `flask run` locally)',
    ),
    "database": (
        WARNING,
        "every cold start then waits for the database before serving anything; an outage or a slow "
        "connect fails the import (FUNCTION_INVOCATION_FAILED)",
        "open connections on first use inside a request, and create tables in a build step or a command",
    ),
    "network": (
        WARNING,
        "every cold start then waits on a remote server, and a timeout or error fails the import",
        "make the call inside the function that needs the answer, with a timeout",
    ),
    "process": (
        WARNING,
        "every cold start pays for a new process, and the program may not exist on Vercel",
        "run it at build time or inside the function that needs it",
    ),
    "thread": (
        WARNING,
        "a thread started at import is frozen between requests and killed with the instance",
        "do the work inside the request, or in a scheduled job (Vercel Cron)",
    ),
    "environ": (
        WARNING,
        "wherever the variable is not set (a Preview deployment, a new project) the import raises "
        "KeyError and every request fails",
        "make sure the variable is set on Vercel, or read it with os.environ.get() and check it where "
        "it is used",
    ),
}


@dataclass(frozen=True)
class Finding:
    severity: str  # ERROR or WARNING
    where: str  # "path:line", relative to the project root
    what: str
    why: str
    fix: str
    # A key of KINDS for what the code does at import (a test can forbid one), SLOW_IMPORT, or "".
    kind: str = ""

    @classmethod
    def of_kind(cls, kind, where, what):
        severity, why, fix = KINDS[kind]
        return cls(severity, where, what, why, fix, kind)

    @property
    def is_error(self):
        return self.severity == ERROR

    def __str__(self):
        return f"{self.where}: {self.severity}: {self.what}: {self.why}. Fix: {self.fix}."


def error(where, what, why, fix):
    return Finding(ERROR, where, what, why, fix)


def warning(where, what, why, fix, kind=""):
    return Finding(WARNING, where, what, why, fix, kind)


def location_key(finding):
    """Sort order: errors first, then by file and line."""
    path, _, line = finding.where.rpartition(":")
    position = (path, int(line)) if line.isdigit() else (finding.where, 0)
    return (not finding.is_error, *position)


def merged(*groups):
    """Every finding once: a problem both passes saw at the same line is reported by the first pass."""
    seen, result = set(), []
    for finding in (f for group in groups for f in group):
        key = (finding.where, finding.severity, finding.why)
        if key not in seen:
            seen.add(key)
            result.append(finding)
    return sorted(result, key=location_key)


class Report:
    """What a pass found, split by severity (``findings`` is set by the subclass)."""

    @property
    def errors(self):
        return [f for f in self.findings if f.is_error]

    @property
    def warnings(self):
        return [f for f in self.findings if not f.is_error]


class CouldNotRun(Exception):
    """The doctor cannot check this project at all (exit code 2); the message says why and what to do."""

"""What the doctor reports: where, what, why it breaks on Vercel, and the fix.

Both passes (static.py reads the code, import_guard.py imports it) explain a kind of problem
with the same words, so the consequences live here, once.
"""

from dataclasses import dataclass

# kind -> (why it breaks on Vercel, the fix)
CONSEQUENCES = {
    "database": (
        "every cold start then needs the database before it can serve anything; an outage, a slow "
        "connect or instances racing to create tables fail the import (FUNCTION_INVOCATION_FAILED)",
        "do it inside a function: a request handler, a CLI command or the build step",
    ),
    "network": (
        "every cold start then waits on a remote server, and a timeout or error fails the import",
        "make the call inside the function that needs the answer, with a timeout",
    ),
    "filesystem": (
        "the deployed files are read-only on Vercel, so a write there raises OSError at every cold "
        "start, and /tmp is per instance and lost with it",
        "write on first use inside a function (scratch data under tempfile.gettempdir())",
    ),
    "process": (
        "every cold start pays for a new process, and the program may not exist on Vercel",
        "run it in the build step ([tool.vercel.scripts] build) or inside the function that needs it",
    ),
    "thread": (
        "a thread started at import is frozen between requests and killed with the instance",
        "do the work inside the request, or in a scheduled job",
    ),
    "environ": (
        "when the variable is missing (a Preview deployment, a new project) the import raises "
        "KeyError and every request fails",
        "read it with os.environ.get() in the config module and report a missing value when it is used",
    ),
    "heavy": (
        "every cold start pays hundreds of milliseconds for it, even for requests that never use it",
        "import it inside the function that needs it (see api.py)",
    ),
}


@dataclass(frozen=True)
class Finding:
    where: str  # "path:line", relative to the project
    what: str
    why: str
    fix: str

    @classmethod
    def of_kind(cls, kind, where, what):
        why, fix = CONSEQUENCES[kind]
        return cls(where, what, why, fix)

    def __str__(self):
        return f"{self.where}: {self.what}: {self.why}. Fix: {self.fix}."

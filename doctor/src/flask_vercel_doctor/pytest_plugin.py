"""The pytest plugin every project with flask-vercel-doctor installed gets (entry point ``pytest11``).

Before the project's conftest.py is imported it stops the run, with what to do, when the checkout
holds bytecode a local `vercel build` left beside the sources or the leftovers of an unfinished
`copier update` (guards.py).
Turn a guard off with ``--no-build-bytecode-guard`` / ``--no-update-guard`` or the ini options
``vercel_doctor_build_bytecode_guard = false`` / ``vercel_doctor_update_guard = false``.

The fixture ``vercel_cold_start`` starts the project under test (the pytest rootdir) as Vercel's
runtime does, read-only, with the running interpreter: ``function = vercel_cold_start(DATABASE_URL=...)``
returns a started vercel_runtime.RunningFunction. It records the runtime's init duration
(``init_duration_ms``), listed in the terminal summary; where the read-only mount is impossible it
skips, or fails when REQUIRE_READ_ONLY_COLD_START=1.
"""

import contextlib
import os
import sys

import pytest

from .environment import vercel_variables
from .guards import build_bytecode_left, unfinished_update
from .vercel_runtime import ReadOnlyUnavailable, start_project

GUARDS = {
    "update": ("--no-update-guard", "vercel_doctor_update_guard", unfinished_update),
    "build_bytecode": (
        "--no-build-bytecode-guard",
        "vercel_doctor_build_bytecode_guard",
        build_bytecode_left,
    ),
}


def pytest_addoption(parser):
    group = parser.getgroup("flask-vercel-doctor")
    group.addoption(
        "--no-update-guard",
        action="store_true",
        help="do not stop at conflict markers or .rej files a `copier update` left",
    )
    group.addoption(
        "--no-build-bytecode-guard",
        action="store_true",
        help="do not stop at unchecked-hash bytecode a local `vercel build` left beside the sources",
    )
    parser.addini(
        "vercel_doctor_update_guard", "stop at an unfinished `copier update`", type="bool", default=True
    )
    parser.addini(
        "vercel_doctor_build_bytecode_guard",
        "stop at bytecode a local `vercel build` left",
        type="bool",
        default=True,
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config):
    """Checked before the project's conftest.py and test modules are imported: a module left with
    conflict markers would stop at a bare SyntaxError, and bytecode from a local `vercel build`
    would test the code as it was before your edits."""
    if hasattr(early_config, "workerinput"):  # pytest-xdist workers: the controller has checked already
        return
    options = early_config.known_args_namespace
    problems = []
    for option, ini, check in GUARDS.values():
        if not getattr(options, option.lstrip("-").replace("-", "_"), False) and early_config.getini(ini):
            problems.append(check(early_config.rootpath))
    if problems := [problem for problem in problems if problem]:
        raise pytest.UsageError("\n".join(problems))


@pytest.fixture
def vercel_cold_start(request, record_property):
    """Start the project as Vercel does (read-only); call it with the variables set on Vercel."""
    root = request.config.rootpath
    with contextlib.ExitStack() as running:

        def start(**env):
            try:
                function = running.enter_context(
                    start_project(root, python=sys.executable, env={**vercel_variables(root), **env})
                )
            except ReadOnlyUnavailable as reason:
                if os.environ.get("REQUIRE_READ_ONLY_COLD_START") == "1":
                    pytest.fail(f"REQUIRE_READ_ONLY_COLD_START is set, but: {reason}", pytrace=False)
                pytest.skip(f"{reason} (REQUIRE_READ_ONLY_COLD_START=1 makes this a failure)")
            record_property("init_duration_ms", function.init_duration_ms)
            return function

        yield start


def pytest_terminal_summary(terminalreporter):
    """The init duration Vercel's runtime announced for each cold start of this run."""
    lines = [
        f"{value:>5} ms  {report.nodeid}"
        for report in terminalreporter.stats.get("passed", [])
        for name, value in report.user_properties
        if name == "init_duration_ms"
    ]
    if lines:
        terminalreporter.write_sep("-", "cold-start init duration (Vercel runtime, read-only)")
        terminalreporter.write_line("\n".join(lines))

"""``flask-vercel-doctor [PROJECT]``: what would make this Flask app fail on Vercel, before you deploy it.

Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 the doctor could not run (it says why).
"""

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version

from .diagnosis import diagnose
from .findings import CouldNotRun
from .imports import DEFAULT_TIMEOUT


def parser():
    parser = argparse.ArgumentParser(
        prog="flask-vercel-doctor",
        description="Find what makes a Flask app fail on Vercel (500 FUNCTION_INVOCATION_FAILED) before you "
        "deploy it: the entrypoint Vercel would serve, the code it runs at import, and the import itself.",
        epilog="Exit codes: 0 no errors, 1 errors found, 2 the doctor could not run.",
    )
    parser.add_argument(
        "project", nargs="?", default=".", help="the project's root (default: the current directory)"
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="the interpreter with the project's dependencies (default: the project's .venv/bin/python)",
    )
    parser.add_argument(
        "--env",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="a variable set in the project's settings on Vercel (repeatable); .env files are never read",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"stop an import that takes longer (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument("--static-only", action="store_true", help="read the code only; import nothing")
    parser.add_argument("--version", action="version", version=f"%(prog)s {own_version()}")
    return parser


def own_version():
    try:
        return version("flask-vercel-doctor")
    except PackageNotFoundError:
        return "unknown"


def main(argv=None):
    arguments = parser().parse_args(argv)
    env = {}
    for item in arguments.env:
        name, equals, value = item.partition("=")
        if not equals or not name:
            print(f"flask-vercel-doctor: --env {item!r} is not NAME=VALUE", file=sys.stderr)
            return 2
        env[name] = value
    try:
        diagnosis = diagnose(
            arguments.project,
            python=arguments.python,
            env=env,
            timeout=arguments.timeout,
            static_only=arguments.static_only,
        )
    except CouldNotRun as reason:
        print(f"flask-vercel-doctor: {reason}", file=sys.stderr)
        return 2
    except Exception as bug:  # noqa: BLE001 (a sentence, never a traceback, even for the doctor's own bug)
        print(
            f"flask-vercel-doctor: could not run: the doctor failed ({type(bug).__name__}: {bug}); please "
            "report it with the layout of the project",
            file=sys.stderr,
        )
        return 2
    print_report(diagnosis)
    return 1 if diagnosis.errors else 0


def print_report(diagnosis):
    print(f"flask-vercel-doctor {own_version()}: {diagnosis.root}")
    if not diagnosis.entrypoints:
        print("Vercel serves: nothing (see the errors below)")
    for entrypoint in diagnosis.entrypoints:
        print(f"Vercel serves: {entrypoint.file}, variable {entrypoint.variable} (found by {entrypoint.how})")
    for report in diagnosis.imports:
        if report.import_ms is not None:
            flask = f"; `import flask` alone: {report.flask_ms:.0f} ms" if report.flask_ms else ""
            print(f"Import: {report.import_ms:.0f} ms with {report.python}{flask}")
    for finding in diagnosis.findings:
        print(finding)
    errors, warnings = len(diagnosis.errors), len(diagnosis.warnings)
    print(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}.")


if __name__ == "__main__":
    sys.exit(main())

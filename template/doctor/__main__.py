"""``python -m doctor [PROJECT]``: find what would make a cold start on Vercel fail.

Two passes: the static one reads every Python file of the project without importing it; the
dynamic one imports the entrypoint in a fresh interpreter and reports what the import did.
Prints one finding per line and exits 1 when there is any.
"""

import argparse
import sys
from pathlib import Path

from .import_guard import check_import
from .static import ENTRYPOINT, check_project

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def diagnose(project):
    """Static findings, then what importing the entrypoint did that they did not already say."""
    findings = check_project(project)
    seen = {finding.where for finding in findings}
    findings += [f for f in check_import(project, module=ENTRYPOINT).findings() if f.where not in seen]
    return findings


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m doctor", description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path, default=PROJECT_ROOT, help="default: this project")
    project = parser.parse_args(argv).project.resolve()
    if not project.is_dir():
        parser.error(f"{project} is not a directory: give the project's root")
    findings = diagnose(project)
    for finding in findings:
        print(finding)
    if findings:
        print(f"doctor: {len(findings)} problem(s) in {project}", file=sys.stderr)
        return 1
    print(f"doctor: no problems found in {project}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m bench``: measure every candidate in one run and write bench/results.md (see bench/__init__)."""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from template_tools import REPO_ROOT
from template_tools.environments import find_python, project_venv

from . import report, shipped
from .candidates import BENCH_EXTRAS, DRIVER_EXTRAS, render_candidates
from .sizes import installed_size_mb
from .timing import time_drivers, time_processes

RESULTS_FILE = Path(__file__).resolve().parent / "results.md"


def parse_arguments():
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="processes per candidate (median; default 15)")
    parser.add_argument("--python", default="3.12", help="Python version of the venv (default 3.12)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL"),
        help="a PostgreSQL server where databases may be created (or BENCH_POSTGRES_URL; default: start one)",
    )
    parser.add_argument("--update-readme", action="store_true", help="put the tables into README.md")
    options = parser.parse_args()
    if options.runs < 11:
        parser.error("--runs must be at least 11: fewer runs make the medians noise")
    if find_python(options.python) is None:
        parser.error(f"no Python {options.python} found on PATH or under pyenv")
    return options


def measure_everything(options, candidates, venv, scratch):
    try:
        what_ships = shipped.measure(options.runs, options.postgres_url)
    except Exception as error:  # no root, npm or PostgreSQL: the table says so instead of failing the run
        print(f"What ships was not measured: {error}", file=sys.stderr)
        what_ships = None
    return {
        "shipped": what_ships,
        "import": time_processes(options.runs, candidates, venv, ["python", "-c", "import index"]),
        "drivers": time_drivers(options.runs, venv, scratch),
        "size": {c.name: installed_size_mb(c, options.python, scratch) for c in candidates},
    }


def main():
    options = parse_arguments()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        scratch = Path(scratch)
        candidates = render_candidates(scratch / "projects", options.python)
        requirements = {r for c in candidates for r in c.requirements} | {*BENCH_EXTRAS, *DRIVER_EXTRAS}
        venv = project_venv(options.python, sorted(requirements))
        sections = measure_everything(options, candidates, venv, scratch)
    table = report.results_markdown(sections, options, time.perf_counter() - started)
    print(table)
    RESULTS_FILE.write_text(table)
    print(f"written to {RESULTS_FILE.relative_to(REPO_ROOT)}")
    if options.update_readme:
        report.update_readme(table)
        print("README.md updated")


if __name__ == "__main__":
    main()

"""``python -m bench``: measure every candidate in one run and write bench/results.md (see bench/__init__)."""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from template_tools import REPO_ROOT
from template_tools.environments import find_python, project_venv
from template_tools.projects import project_script

from . import report
from .candidates import BARE, BENCH_EXTRAS, prepare_database, render_candidates
from .cold_starts import measure_bundles, source_init_durations
from .serving import requests_per_second
from .sizes import installed_size_mb
from .timing import time_drivers, time_processes

RESULTS_FILE = Path(__file__).resolve().parent / "results.md"


def parse_arguments():
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="processes per candidate (median; default 15)")
    parser.add_argument("--requests", type=int, default=100, help="requests per candidate per round")
    parser.add_argument("--python", default="3.12", help="Python version of the venv (default 3.12)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL"),
        help="an empty throwaway PostgreSQL database for the cold-request rows (or BENCH_POSTGRES_URL)",
    )
    parser.add_argument("--update-readme", action="store_true", help="put the tables into README.md")
    options = parser.parse_args()
    if options.runs < 15:
        parser.error("--runs must be at least 15: fewer runs make the medians noise")
    if find_python(options.python) is None:
        parser.error(f"no Python {options.python} found on PATH or under pyenv")
    return options


def measure_everything(options, candidates, venv, scratch):
    apps = [c for c in candidates if c.name != BARE]
    sections = {"import": time_processes(options.runs, candidates, venv, ["python", "-c", "import index"])}
    databases = {"SQLite": lambda c: f"sqlite:///{scratch / (c.name.replace(' ', '_') + '.sqlite3')}"}
    if options.postgres_url:
        databases["PostgreSQL"] = lambda c: options.postgres_url
    first_request = ["python", str(project_script("first_request"))]
    for label, url_for in databases.items():
        for candidate in apps:
            prepare_database(candidate, venv, url_for(candidate))
        sections[f"first request, {label}"] = time_processes(options.runs, apps, venv, first_request, url_for)
    sections["drivers"] = time_drivers(options.runs, venv, scratch)
    sections["requests/second"] = requests_per_second(
        options.runs, options.requests, candidates, venv, databases["SQLite"]
    )
    sections["size"] = {c.name: installed_size_mb(c, options.python, scratch) for c in candidates}
    sections["vercel init"] = source_init_durations(options.runs, candidates, venv)
    sections["vercel bundles"] = vercel_bundles(options.runs, candidates, scratch)
    return sections


def vercel_bundles(runs, candidates, scratch):
    """Real `vercel build` bundles; None, with the reason printed, when the CLI or the harness is missing."""
    projects = {c.name: c.directory for c in candidates if c.is_strategy}
    hello = next(c.directory for c in candidates if c.name == BARE)
    try:
        return measure_bundles(projects, hello, scratch / "bundles", runs)
    except Exception as error:  # the table says "not measured" instead of failing the whole run
        print(f"Vercel bundles not measured: {error}", file=sys.stderr)
        return None


def main():
    options = parse_arguments()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        scratch = Path(scratch)
        candidates = render_candidates(scratch / "projects", options.python)
        requirements = sorted({r for c in candidates for r in c.requirements} | set(BENCH_EXTRAS))
        venv = project_venv(options.python, requirements)
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

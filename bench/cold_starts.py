"""Cold starts: the init duration Vercel's runtime announces, and what each bundle weighs.

    .venv/bin/python -m bench.cold_starts [--runs 11]

Renders every strategy, then in one run measures (best and median of --runs cold starts each):
1. from source with the shared dev venv, next to Vercel's hello-world Flask app (issue 3);
2. real `vercel build` output started read-only by a bare Python 3.12 (issue 7): Vercel's hello-world
   bundle as Vercel builds it by default and with bytecode, each strategy without bytecode, each as
   the template ships it. ``python -m bench`` puts the same tables into bench/results.md.
"""

import argparse
import functools
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask_vercel_doctor.vercel_runtime import start_built_function, start_project
from template_tools.environments import find_python, project_requirements, project_venv
from template_tools.matrix import STRATEGIES
from template_tools.repository import render, template_snapshot
from template_tools.vercel import bundle_files, vercel_build

from .candidates import BARE, CLASSIC, FIXTURES

HELLO_WORLD = FIXTURES / "bare_flask"  # Vercel's Flask starter, buildable
SHIPPED_GOAL = 0.3  # a shipped bundle starts in <= 0.3x the default hello-world's median


@dataclass
class Bundle:
    label: str
    root: Path
    bytecode: bool | None  # None: as the project's vercel.json asks, i.e. as the template ships it
    path: str  # answers 200 once started
    durations: list | None = None
    files: int = 0
    megabytes: float = 0.0
    build_seconds: float = 0.0

    @property
    def shipped(self):
        return self.bytecode is None

    @property
    def best(self):
        return min(self.durations)

    @property
    def median(self):
        return statistics.median(self.durations)


def measure_init_durations(starts, runs):
    """Init durations (ms) of ``runs`` cold starts per entry of ``starts`` ({label: (start, path)}).

    ``start()`` returns a context manager for one started function; ``path`` must answer 200.
    The entries take turns, so a busy machine slows them all alike and their ratios stay fair.
    """
    durations = {label: [] for label in starts}
    for _ in range(runs):
        for label, (start, path) in starts.items():
            with start() as function:
                assert function.get(path).status == 200, f"{label}: GET {path} failed"
                durations[label].append(function.init_duration_ms)
    return durations


def measure_bundles(projects, hello, work, runs):
    """Build every bundle with the real `vercel build`, then start each ``runs`` times, read-only.

    ``projects`` maps strategy to a rendered project. The first two bundles are Vercel's hello-world:
    as Vercel builds it by default (the baseline) and with bytecode (the floor for any Flask app).
    """
    bundles = [
        Bundle("Vercel hello-world Flask, default build", hello, False, "/"),
        Bundle("Vercel hello-world Flask, with bytecode", hello, True, "/"),
    ]
    bundles += [Bundle(f"{s}, no bytecode", projects[s], False, "/api/health") for s in projects]
    bundles += [Bundle(f"{s}, as shipped", projects[s], None, "/api/health") for s in projects]
    python = find_python("3.12")  # no packages of its own: the bundle must bring everything
    starts = {}
    for index, bundle in enumerate(bundles):
        built, func_dir, bundle.build_seconds, _ = vercel_build(
            bundle.root, work / f"bundle-{index}", bytecode=bundle.bytecode
        )
        files = bundle_files(func_dir, built)
        bundle.files, bundle.megabytes = len(files), sum(files.values()) / 1e6
        start = functools.partial(start_built_function, func_dir, project_root=built, python=python)
        starts[bundle.label] = (start, bundle.path)
    for bundle, durations in zip(bundles, measure_init_durations(starts, runs).values(), strict=True):
        bundle.durations = durations
    return bundles


def bundles_markdown(bundles, runs):
    default, floor = bundles[0].median, bundles[1].median
    lines = [
        f"**Vercel bundles: `vercel build` output, bare Python 3.12, read-only** (runtime's init duration,"
        f" {runs} cold starts each; goal: every shipped bundle <= {SHIPPED_GOAL}x the default hello-world;"
        " the hello-world with bytecode is the floor for any Flask app on this runtime)",
        "",
        "| bundle | best ms | median ms | x hello default | x hello with bytecode | goal | files | MB"
        " | build s |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for b in bundles:
        ratio = b.median / default
        goal = ("meets" if ratio <= SHIPPED_GOAL else "MISSES") if b.shipped else ""
        cells = [b.label, b.best, f"{b.median:.0f}", f"{ratio:.2f}x", f"{b.median / floor:.2f}x", goal]
        cells += [b.files, f"{b.megabytes:.1f}", f"{b.build_seconds:.1f}"]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines) + "\n"


def source_init_durations(runs, candidates, venv):
    """Median init duration (ms) the runtime announces per candidate, read-only, from source.

    ``{name: None}``, the reason printed, when the read-only harness cannot run here (no root).
    """
    starts = {}
    for candidate in candidates:
        # The classic app cannot even start without DATABASE_URL, as on Vercel.
        env = {"DATABASE_URL": "sqlite:////tmp/never-opened.sqlite3"} if candidate.name == CLASSIC else {}
        start = functools.partial(start_project, candidate.directory, python=venv / "bin" / "python", env=env)
        starts[candidate.name] = (start, "/" if candidate.name == BARE else "/api/health")
    try:
        durations = measure_init_durations(starts, runs)
    except Exception as error:  # the table says "not measured" instead of failing the whole run
        print(f"Vercel runtime init duration not measured: {error}", file=sys.stderr)
        return {candidate.name: None for candidate in candidates}
    return {name: statistics.median(values) for name, values in durations.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="cold starts per row (default 11)")
    runs = parser.parse_args().runs
    if runs < 9:
        parser.error("--runs must be at least 9")
    work = Path(tempfile.mkdtemp(prefix="cold-start-bench-"))
    try:
        template = template_snapshot(work / "template")  # uncommitted changes included
        projects = {s: render(template, work / "src" / s, db_init_strategy=s) for s in STRATEGIES}
        hello = shutil.copytree(HELLO_WORLD, work / "src" / "hello-world")
        requirements = sorted({r for p in projects.values() for r in project_requirements(p)})
        venv_python = project_venv("3.12", requirements) / "bin" / "python"
        print(f"**From source, Vercel's runtime from the dev venv, read-only** ({runs} cold starts each)\n")
        print("| app | best ms | median ms |\n|---|---:|---:|")
        apps = {"Vercel hello-world Flask": (hello, "/")}
        apps |= {strategy: (root, "/api/health") for strategy, root in projects.items()}
        starts = {
            name: (functools.partial(start_project, root, python=venv_python), path)
            for name, (root, path) in apps.items()
        }
        for name, durations in measure_init_durations(starts, runs).items():
            print(f"| {name} | {min(durations)} | {statistics.median(durations):.0f} |")
        print()
        print(bundles_markdown(measure_bundles(projects, hello, work / "build", runs), runs))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

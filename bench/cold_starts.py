"""Cold-start benchmark: the init duration Vercel's runtime announces, and what each bundle weighs.

    .venv/bin/python bench/cold_start.py [--runs 11]

Renders every strategy, then in one run measures (best and median of --runs cold starts each):
1. from source with the shared dev venv, next to Vercel's hello-world Flask app (issue 3);
2. real `vercel build` output started read-only by a bare Python 3.12 (issue 7): Vercel's hello-world
   bundle as Vercel builds it by default and with bytecode, each strategy without bytecode, each as
   the template ships it. bench/benchmark.py puts the same table into bench/results.md.
"""

import argparse
import functools
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from support import (  # noqa: E402
    STRATEGIES,
    find_python,
    project_requirements,
    project_venv,
    template_snapshot,
)
from vercel_tools import bundle_files, vercel_build, vercel_platform  # noqa: E402

HELLO_WORLD = REPO_ROOT / "bench" / "fixtures" / "bare_flask"  # Vercel's Flask starter, buildable
SHIPPED_GOAL = 0.3  # issue 7: a shipped bundle starts in <= 0.3x the default hello-world's median


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
    platform = vercel_platform(next(iter(projects.values())))
    python = find_python("3.12")  # no packages of its own: the bundle must bring everything
    starts = {}
    for index, bundle in enumerate(bundles):
        built, func_dir, bundle.build_seconds, _ = vercel_build(
            bundle.root, work / f"bundle-{index}", bytecode=bundle.bytecode
        )
        files = bundle_files(func_dir, built)
        bundle.files, bundle.megabytes = len(files), sum(files.values()) / 1e6
        start = functools.partial(platform.start_built_function, func_dir, project_root=built, python=python)
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


def render(template, strategy, destination):
    import copier

    answers = {"project_name": "Acme Notes", "db_init_strategy": strategy}
    copier.run_copy(str(template), destination, data=answers, defaults=True, quiet=True)
    return Path(destination)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="cold starts per row (default 11)")
    runs = parser.parse_args().runs
    if runs < 9:
        parser.error("--runs must be at least 9")
    work = Path(tempfile.mkdtemp(prefix="cold-start-bench-"))
    try:
        template = template_snapshot(work / "template")  # uncommitted changes included
        projects = {strategy: render(template, strategy, work / "src" / strategy) for strategy in STRATEGIES}
        hello = shutil.copytree(HELLO_WORLD, work / "src" / "hello-world")
        platform = vercel_platform(projects["lazy"])
        requirements = sorted({r for p in projects.values() for r in project_requirements(p)})
        venv_python = project_venv("3.12", requirements) / "bin" / "python"
        print(f"**From source, Vercel's runtime from the dev venv, read-only** ({runs} cold starts each)\n")
        print("| app | best ms | median ms |\n|---|---:|---:|")
        apps = {"Vercel hello-world Flask": (hello, "/")}
        apps |= {strategy: (root, "/api/health") for strategy, root in projects.items()}
        starts = {
            name: (functools.partial(platform.start_project, root, python=venv_python), path)
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

"""Cold-start benchmark: the init duration Vercel's runtime announces, and what each bundle weighs.

    .venv/bin/python bench/cold_start.py [--runs 11]

Renders every strategy, then in one run measures (best and median of --runs cold starts each):
1. from source with the shared dev venv, next to a bare Flask hello-world (issue 3);
2. real `vercel build` output started read-only by a bare Python 3.12 (issue 7): Vercel's hello-world Flask
   bundle as Vercel builds it by default, each strategy without bytecode, each as the template ships it.
`measure_init_durations()` is the building block other benchmarks can call.
"""

import argparse
import functools
import statistics
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from support import STRATEGIES, find_python, project_requirements, project_venv  # noqa: E402
from vercel_tools import bundle_files, vercel_build, vercel_platform  # noqa: E402

HELLO_WORLD = {  # Vercel's Flask starter: one route, flask as the only dependency
    "index.py": 'from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get("/")\ndef home():\n'
    '    return "Hello, World!"\n',
    "pyproject.toml": '[project]\nname = "hello"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
    'dependencies = ["flask>=3.1,<4"]\n',
    ".python-version": "3.12\n",
    "vercel.json": '{"framework": "flask"}\n',
    ".vercelignore": "# nothing to leave out\n",
}


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


def summary(durations):
    return min(durations), statistics.median(durations)


def render(strategy, destination):
    import copier

    answers = {"project_name": "Acme Notes", "db_init_strategy": strategy}
    copier.run_copy(str(REPO_ROOT), destination, data=answers, defaults=True, unsafe=True, quiet=True)
    return Path(destination)


def write_hello_world(destination):
    destination.mkdir()
    for name, text in HELLO_WORLD.items():
        (destination / name).write_text(text)
    return destination


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="cold starts per row (default 11)")
    runs = parser.parse_args().runs
    work = Path(tempfile.mkdtemp(prefix="cold-start-bench-"))
    projects = {strategy: render(strategy, work / "src" / strategy) for strategy in STRATEGIES}
    hello = write_hello_world(work / "src" / "hello-world")
    platform = vercel_platform(projects["lazy"])
    py312 = find_python("3.12")  # no packages of its own: the bundle must bring everything

    requirements = sorted({r for p in projects.values() for r in project_requirements(p)})
    venv_python = project_venv("3.12", requirements) / "bin" / "python"
    print(f"## From source, Vercel's runtime from the dev venv, read-only ({runs} cold starts each)\n")
    print("| app | best ms | median ms |\n|---|---:|---:|")
    starts = {
        "Flask hello-world": (functools.partial(platform.start_project, hello, python=venv_python), "/")
    }
    for name, root in projects.items():
        starts[name] = (functools.partial(platform.start_project, root, python=venv_python), "/api/health")
    for name, durations in measure_init_durations(starts, runs).items():
        print("| {} | {} | {:.0f} |".format(name, *summary(durations)))

    rows = [("Vercel hello-world Flask, default build", hello, False)]
    rows += [(f"{s}, no bytecode", projects[s], False) for s in STRATEGIES]
    rows += [(f"{s}, as shipped (bytecode)", projects[s], None) for s in STRATEGIES]
    starts, bundles = {}, {}
    for index, (label, root, bytecode) in enumerate(rows):
        built, func_dir, seconds, _ = vercel_build(root, work / "build" / str(index), bytecode=bytecode)
        start = functools.partial(platform.start_built_function, func_dir, project_root=built, python=py312)
        starts[label] = (start, "/" if root == hello else "/api/health")
        bundles[label] = (bundle_files(func_dir, built), seconds)
    print(f"\n## `vercel build` output, bare Python 3.12, read-only ({runs} cold starts each)\n")
    print("| bundle | best ms | median ms | × hello median | files | unpacked MB | build s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    baseline = None
    for label, durations in measure_init_durations(starts, runs).items():
        best, median = summary(durations)
        baseline = baseline or median
        files, seconds = bundles[label]
        size_mb = sum(files.values()) / 1e6
        cells = [label, best, f"{median:.0f}", f"{median / baseline:.2f}", len(files), f"{size_mb:.1f}"]
        print("| " + " | ".join(map(str, [*cells, f"{seconds:.1f}"])) + " |")


if __name__ == "__main__":
    main()

"""Whole-process timings: every candidate in turn, round after round, so noise hits all alike."""

import statistics
import time

from template_tools.commands import run

from .candidates import candidate_env, import_only_url

# Import cost of each PostgreSQL driver, over a bare interpreter ("interpreter").
DRIVER_IMPORTS = {
    "interpreter": "pass",
    "psycopg (3)": "import psycopg",
    "psycopg2": "import psycopg2",
    "SQLAlchemy + psycopg (3)": "import sqlalchemy; sqlalchemy.create_engine('postgresql+psycopg://u@h/d')",
    "SQLAlchemy + psycopg2": "import sqlalchemy; sqlalchemy.create_engine('postgresql+psycopg2://u@h/d')",
}


def time_processes(runs, candidates, venv, command, url_for=import_only_url):
    """Median wall time (ms) of ``command`` in each candidate's directory, against its database."""
    jobs = {}
    for candidate in candidates:
        env = candidate_env(venv, url_for(candidate))
        env["PYTHONPATH"] = str(candidate.directory)
        jobs[candidate.name] = (command, candidate.directory, env)
    return median_process_ms(runs, jobs)


def median_process_ms(runs, jobs):
    """Median wall time (ms) of each job ({name: (command, cwd, env)}), whole processes, interleaved."""
    for command, cwd, env in jobs.values():  # one untimed run each: writes the .pyc files later runs read
        run(command, cwd=cwd, env=env)
    samples = {name: [] for name in jobs}
    for round_number in range(runs):
        for name in rotated(list(jobs), round_number):
            command, cwd, env = jobs[name]
            start = time.perf_counter()
            run(command, cwd=cwd, env=env)
            samples[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def rotated(items, offset):
    offset %= len(items)
    return items[offset:] + items[:offset]


def time_drivers(runs, venv, directory):
    """Import cost (ms) of each PostgreSQL driver, over a bare interpreter, measured in the same run."""
    env = candidate_env(venv)
    jobs = {name: (["python", "-c", code], directory, env) for name, code in DRIVER_IMPORTS.items()}
    medians = median_process_ms(runs, jobs)
    baseline = medians.pop("interpreter")
    return {name: value - baseline for name, value in medians.items()}

"""The answers the template's suite covers, and how a run narrows them."""

import os

STRATEGIES = ("migrations", "lazy", "init_endpoint", "manual")
# copier.yml's database_driver, the default first: the suite runs on it, and on the other where they differ.
DRIVERS = ("psycopg2", "psycopg")
PYTHON_VERSIONS = ("3.12", "3.13")
DATABASES = ("sqlite", "postgres")
# The test matrix: parameter name -> (every value, the env var that narrows it, comma-separated).
MATRIX = {
    "strategy": (STRATEGIES, "TEST_STRATEGIES"),
    "python_version": (PYTHON_VERSIONS, "TEST_PYTHONS"),
    "database": (DATABASES, "TEST_DATABASES"),
}


def matrix_selection(axis, chosen=None):
    """The values of ``axis`` to test: ``chosen`` (a CLI option), else its env var, else all."""
    every, variable = MATRIX[axis]
    if not chosen:
        chosen = [value for value in os.environ.get(variable, "").split(",") if value.strip()]
    values = {value.strip() for item in chosen for value in item.split(",")}
    unknown = sorted(values - set(every))
    if unknown:
        raise ValueError(f"unknown {axis} {', '.join(unknown)}: choose from {', '.join(every)}")
    return values or set(every)

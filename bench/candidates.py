"""What the benchmark measures: the rendered strategies and the two fixtures, each in one shared venv."""

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from template_tools.environments import project_env, project_requirements
from template_tools.matrix import DRIVERS, STRATEGIES
from template_tools.postgres import sqlalchemy_url
from template_tools.repository import render, template_snapshot

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BARE, CLASSIC = "bare Flask", "classic eager"
# What the classic app and the driver comparison need beyond the generated projects' dependencies.
BENCH_EXTRAS = ["flask-sqlalchemy>=3.1,<4", "flask-migrate>=4.1,<5", "psycopg2-binary>=2.9.10,<3"]
DRIVER_EXTRAS = ["psycopg[binary]>=3.2,<4"]  # the other driver, for the driver import costs
# Vercel's own example ships `flask` alone; the classic app ships what its imports need.
BARE_REQUIREMENTS = ["flask>=3.1,<4"]
CLASSIC_REQUIREMENTS = ["flask>=3.1,<4", *BENCH_EXTRAS]
INIT_TOKEN = "benchmark-init-token"


@dataclass
class Candidate:
    name: str
    directory: Path
    requirements: list = field(default_factory=list)

    @property
    def is_strategy(self):
        return self.name in STRATEGIES


def render_candidates(destination, python_version):
    """Every strategy rendered from this checkout (uncommitted changes included), plus the fixtures."""
    template = template_snapshot(destination.parent / "template")
    settings = destination.parent / "copier-settings.yml"
    settings.write_text("{}\n")  # ignore the developer's own Copier settings
    os.environ["COPIER_SETTINGS_PATH"] = str(settings)
    candidates = [
        Candidate(BARE, copy_fixture("bare_flask", destination), BARE_REQUIREMENTS),
        Candidate(CLASSIC, copy_fixture("classic_flask", destination), CLASSIC_REQUIREMENTS),
    ]
    for strategy in STRATEGIES:
        project = render(
            template, destination / strategy, db_init_strategy=strategy, python_version=python_version
        )
        candidates.append(Candidate(strategy, project, project_requirements(project)))
    return candidates


def copy_fixture(name, destination):
    return shutil.copytree(FIXTURES / name, destination / name, ignore=shutil.ignore_patterns("__pycache__"))


def candidate_env(venv, database_url=None):
    """A candidate's environment: the shared venv and, when given, its database (the default driver)."""
    extra = {"INIT_TOKEN": INIT_TOKEN}
    if database_url:
        extra["DATABASE_URL"] = sqlalchemy_url(database_url, DRIVERS[0])
    return project_env(venv, **extra)


def import_only_url(candidate):
    """Importing needs no database; the classic app still insists on DATABASE_URL being set."""
    return f"sqlite:///{candidate.directory / 'never-opened.sqlite3'}" if candidate.name == CLASSIC else None

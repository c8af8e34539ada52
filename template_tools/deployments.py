"""A rendered project deployed as its README says: Vercel's build step, the way new tables reach a
deployed database under each strategy, and cold starts through Vercel's runtime, read-only.

A Deployment stands for one database that every deployment of the project uses (production, say),
so what day one wrote there must still be served once the app has grown.
"""

import tomllib

from flask_vercel_doctor.environment import vercel_variables
from flask_vercel_doctor.vercel_runtime import start_project

from .commands import run
from .projects import report_of, run_in_project

INIT_TOKEN = "day-two-init-token"


class Deployment:
    def __init__(self, project, strategy, database_url):
        """``project``: a uv_projects.UvProject, synced; ``database_url``: the deployments' database."""
        self.project = project
        self.strategy = strategy
        self.database_url = database_url
        self.env = {**vercel_variables(project.path), "DATABASE_URL": database_url}
        if database_url.startswith("sqlite"):
            self.env["ALLOW_SQLITE_ON_VERCEL"] = "1"  # a file outside the read-only tree stands in

    def create_tables(self):
        """Deploy a project whose models changed: Vercel's build step, then what the README says to do."""
        self.build()
        self.create_new_tables()

    def build(self):
        """What Vercel's build runs once the dependencies are installed, pyproject.toml's build script,
        but its bytecode step: that ships in the bundle (tests/test_vercel_build.py), not to a database."""
        pyproject = tomllib.loads((self.project.path / "pyproject.toml").read_text())
        lines = pyproject["tool"]["vercel"]["scripts"]["build"].splitlines()
        script = "\n".join(line for line in lines if "compile_for_vercel()" not in line)
        env = {"PATH": "/usr/bin:/bin", "UV_PROJECT_ENVIRONMENT": str(self.project.venv)}
        return run(["bash", "-c", script], cwd=self.project.path, env={**env, **self.env})

    def create_new_tables(self):
        """The README's "Growing the app", step 1, for this strategy, against this database."""
        if self.strategy == "manual":  # `DATABASE_URL=<its url> uv run flask --app index init-db`
            self.project.run("flask", "--app", "index", "init-db", DATABASE_URL=self.database_url)
        elif self.strategy == "init_endpoint":  # `POST /_init` again, on the deployment
            with self.cold_start(INIT_TOKEN=INIT_TOKEN) as function:
                response = function.post("/_init", headers={"Authorization": f"Bearer {INIT_TOKEN}"})
                assert (response.status, response.json()) == (200, {"status": "initialized"})
        # migrations: the build step applied the new revision; lazy: a new instance's first request does it.

    def cold_start(self, **env):
        """A new instance of the deployment (a context manager giving a RunningFunction)."""
        return start_project(self.project.path, python=self.project.python, env={**self.env, **env})

    def table_names(self):
        env = {"DATABASE_URL": self.database_url}
        return report_of(run_in_project(self.project.path, self.project.venv, "table_names", env=env))

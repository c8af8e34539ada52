"""Run ``flask`` commands on an app built beforehand, as a deploy script would (run by a project's Python).

    python cli_on_built_app.py ARG [ARG ...]      e.g.  db upgrade

Builds the app with the project's factory first, then hands it to ``flask.cli.FlaskGroup``.
"""

import sys

from flask.cli import FlaskGroup
from index import app

FlaskGroup(create_app=lambda: app).main(sys.argv[1:], prog_name="flask")

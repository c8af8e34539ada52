"""Create a rendered project's tables the way its strategy does (run in the project, by its Python).

Every strategy module has ``create_tables()``; the app's own package is found from ``index.app``.
"""

import importlib

from index import app

schema = importlib.import_module(f"{app.import_name}.schema")
with app.app_context():
    schema.create_tables()

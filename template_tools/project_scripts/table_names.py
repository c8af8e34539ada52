"""Print the tables of the database at DATABASE_URL as one JSON list (run by a project's interpreter).

The URL as the app reads it: with the project's own driver (a bare postgresql:// would get
SQLAlchemy's default, which the project may not have installed).
"""

import json

from index import app
from sqlalchemy import create_engine, inspect

engine = create_engine(app.config["DATABASE_URL"])
print(json.dumps(sorted(inspect(engine).get_table_names())))
engine.dispose()

"""Print the tables of the database at DATABASE_URL as one JSON list (run by a project's interpreter)."""

import json
import os

from sqlalchemy import create_engine, inspect

engine = create_engine(os.environ["DATABASE_URL"])
print(json.dumps(sorted(inspect(engine).get_table_names())))
engine.dispose()

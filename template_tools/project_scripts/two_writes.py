"""A request that writes twice and fails on the second write (run by a project's interpreter, in it).

The second row reuses the first one's id, which the database refuses. Prints one JSON line:
{"outcome": "refused" or "committed", "items": [names the database holds afterwards]}.
"""

import importlib
import json

from index import app
from sqlalchemy.exc import IntegrityError

db = importlib.import_module(f"{app.import_name}.db")
models = importlib.import_module(f"{app.import_name}.models")

with app.test_request_context():
    session = db.get_session()
    first = models.Item(name="first write")
    session.add(first)
    session.flush()  # the first write reaches the database...
    session.add(models.Item(id=first.id, name="second write"))  # ...the second is refused
    try:
        session.commit()
        outcome = "committed"
    except IntegrityError:
        session.rollback()
        outcome = "refused"

with app.test_request_context():
    names = [item.name for item in models.Item.all(db.get_session())]
print(json.dumps({"outcome": outcome, "items": names}))

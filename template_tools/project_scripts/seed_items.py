"""Put three rows into an empty ``items`` table (run by a project's interpreter): ``seed_items.py URL``."""

import sys

from sqlalchemy import create_engine, text

with create_engine(sys.argv[1]).begin() as connection:
    if connection.execute(text("SELECT count(*) FROM items")).scalar() == 0:
        connection.execute(text("INSERT INTO items (name) VALUES ('Milk'), ('Eggs'), ('Bread')"))

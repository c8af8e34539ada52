import os

from flask import Flask

from .models import Item, db


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:////tmp/inventory.sqlite3")
    db.init_app(app)

    @app.get("/items")
    def items():
        return [item.name for item in db.session.scalars(db.select(Item))]

    return app

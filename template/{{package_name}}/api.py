"""The JSON API: a health check that never touches the database, and items that do."""

from flask import Blueprint, abort, jsonify, request

from .db import get_session

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/health")
def health():
    return {"status": "ok"}


@bp.get("/items")
def list_items():
    from .models import Item  # deferred: SQLAlchemy loads on the first database request

    return jsonify([item.to_dict() for item in Item.all(get_session())])


@bp.post("/items")
def create_item():
    payload = request.get_json(silent=True)
    name = payload.get("name") if isinstance(payload, dict) else None
    if not isinstance(name, str) or not name.strip():
        abort(400, description='Send a JSON body like {"name": "Milk"}; "name" must be a non-empty string.')

    from .models import Item  # deferred: SQLAlchemy loads on the first database request

    name = name.strip()
    if len(name) > Item.NAME_MAX_LENGTH:
        abort(400, description=f'"name" is longer than {Item.NAME_MAX_LENGTH} characters.')
    session = get_session()
    item = Item(name=name)
    session.add(item)
    session.commit()
    return item.to_dict(), 201

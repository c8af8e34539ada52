"""The home page: what this deployment is, whether it is healthy, and where to go next."""

from flask import Blueprint, render_template

from .api import health

bp = Blueprint("pages", __name__)


@bp.get("/")
def home():
    return render_template("index.html", health=health())

# Flask's default: the static/ folder beside the app, served by the function itself.
from flask import Flask, url_for

app = Flask(__name__)


@app.get("/")
def home():
    return f'<link rel="stylesheet" href="{url_for("static", filename="css/site.css")}">'

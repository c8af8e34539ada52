# The files are where the CDN serves them (/static/...), but Flask links them as /assets/...,
# which on Vercel reaches the function, where public/ is not.
from flask import Flask, url_for

app = Flask(__name__, static_folder="public/static", static_url_path="/assets")


@app.get("/")
def home():
    return f'<link rel="stylesheet" href="{url_for("static", filename="site.css")}">'

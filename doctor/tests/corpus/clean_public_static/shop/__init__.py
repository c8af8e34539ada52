from flask import Flask, render_template


def create_app():
    # public/ is served by Vercel's CDN at the same paths, and is not in the function.
    app = Flask(__name__, static_folder="../public/static", static_url_path="/static")

    @app.get("/")
    def home():
        return render_template("home.html")

    return app

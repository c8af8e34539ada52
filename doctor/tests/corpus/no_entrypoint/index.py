import os

if os.environ.get("VERCEL"):
    from flask import Flask

    app = Flask(__name__)

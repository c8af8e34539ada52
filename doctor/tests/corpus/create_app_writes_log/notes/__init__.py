import logging
import os

from flask import Flask


def create_app():
    app = Flask(__name__)
    os.makedirs("logs", exist_ok=True)
    handler = logging.FileHandler("logs/app.log")
    app.logger.addHandler(handler)
    return app

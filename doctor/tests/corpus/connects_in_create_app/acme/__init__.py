import os

import psycopg
from flask import Flask


def create_app():
    app = Flask(__name__)
    psycopg.connect(os.environ.get("DATABASE_URL", "postgresql://app@127.0.0.1:1/app"), connect_timeout=1)
    return app

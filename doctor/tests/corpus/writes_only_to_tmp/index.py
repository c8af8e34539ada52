import logging
import os
import tempfile

from flask import Flask

os.makedirs("/tmp/flask-vercel-doctor-corpus", exist_ok=True)
CACHE = os.path.join(tempfile.gettempdir(), "cache")
os.makedirs(CACHE, exist_ok=True)
app = Flask(__name__)
app.logger.addHandler(logging.FileHandler("/tmp/flask-vercel-doctor-corpus/app.log"))

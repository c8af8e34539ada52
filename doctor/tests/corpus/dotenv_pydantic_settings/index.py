from flask import Flask

from settings import settings

app = Flask(__name__)
app.secret_key = settings.secret_key

from flask import Flask

app = Flask(__name__)


@app.get("/")
def home():
    return {"status": "ok"}


import threading

threading.Event().wait()  # waits for a signal that never comes

import subprocess
import threading
import time
import urllib.request

from flask import Flask

app = Flask(__name__)
VERSION = subprocess.run(["true"], check=False).returncode
threading.Thread(target=time.sleep, args=(0.2,), daemon=True).start()
try:
    urllib.request.urlopen("http://127.0.0.1:1/", timeout=1)
except OSError:
    pass

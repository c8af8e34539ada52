# Works locally; on Vercel public/ belongs to the CDN and is not in the function.
import json
from pathlib import Path

from flask import Flask

MOTD = json.loads((Path(__file__).parent / "public" / "motd.json").read_text())
app = Flask(__name__)

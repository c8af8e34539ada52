from flask import Flask

from helpers import greet

app = Flask(__name__)

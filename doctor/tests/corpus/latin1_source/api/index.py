# -*- coding: latin-1 -*-
from flask import Flask

GREETING = 'Café, crème brûlée'

app = Flask(__name__)

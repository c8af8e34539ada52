from environs import Env
from flask import Flask

env = Env()
env.read_env()
app = Flask(__name__)
app.secret_key = env.str("SECRET_KEY")

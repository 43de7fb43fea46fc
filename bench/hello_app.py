"""(a) The floor: a bare Flask app, one GET /hello per "flow".

Served by the benchmark as `gunicorn -w 2 hello_app:app` (see bench/run.py).
"""

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello():
    return "hello"

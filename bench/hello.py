"""The baseline: a hello-world Flask app served exactly like Allyloop (same gunicorn flags).

Run as ``gunicorn -c gunicorn.conf.py -b 127.0.0.1:PORT -w 2 'bench.hello:create_app()'``.
It reads the same JSON body the answer endpoint gets and answers 202 with a small receipt.
"""

from typing import Any

from flask import Flask, request


def create_app() -> Flask:
    app = Flask("hello")

    @app.post("/api/v1/answer/<token>")
    def submit(token: str) -> tuple[dict[str, Any], int]:
        body = request.get_json()
        return {"receipt": f"{len(token)}-{len(body['sealed'])}"}, 202

    return app

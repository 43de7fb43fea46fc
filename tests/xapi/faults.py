"""A fault injector in front of the real LRS: forwards every request to Ralph, except those a test makes fail.

Ralph itself cannot be made to answer 500, garbage or "slow"; the network between the tool and an LRS
can. The proxy changes nothing it forwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class FaultProxy:
    target: str  # the LRS's endpoint, e.g. http://127.0.0.1:P/xAPI/
    # Each rule sees the request body and may answer instead of the LRS (return None to forward).
    rules: list[Callable[[Request, bytes], Response | None]] = field(default_factory=list)
    seen: list[tuple[str, int]] = field(default_factory=list)
    delay: float = 0.0

    def start(self) -> FaultProxy:
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.endpoint = f"http://127.0.0.1:{self._server.server_port}/xAPI/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def _app(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        if self.delay:
            time.sleep(self.delay)
        for rule in self.rules:
            answer = rule(request, body)
            if answer is not None:
                self.seen.append((request.method, answer.status_code))
                return answer(environ, start_response)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        try:
            forwarded = requests.request(request.method, self.target + request.path.split("/xAPI/", 1)[1],
                                         params=request.args, data=body, headers=headers, timeout=30)
        except requests.ConnectionError:
            self.seen.append((request.method, 502))
            return Response("bad gateway", status=502)(environ, start_response)
        self.seen.append((request.method, forwarded.status_code))
        answer = Response(forwarded.content, status=forwarded.status_code,
                          content_type=forwarded.headers.get("Content-Type"))
        return answer(environ, start_response)


def answer_once(status: int, body: str = "", *, times: int = 1) -> Callable[[Request, bytes], Response | None]:
    left = [times]

    def rule(request: Request, _: bytes) -> Response | None:
        if left[0] <= 0:
            return None
        left[0] -= 1
        return Response(body, status=status, content_type="application/json")
    return rule


def refuse_statement(statement_id: str) -> Callable[[Request, bytes], Response | None]:
    """An LRS that will not store one statement (as it would one that breaks its rules): 400 for any body holding it."""
    def rule(request: Request, body: bytes) -> Response | None:
        if request.method == "POST" and statement_id.encode() in body:
            return Response('{"error": "refused by rule"}', status=400, content_type="application/json")
        return None
    return rule


def conflict_for(statement_id: str) -> Callable[[Request, bytes], Response | None]:
    """An LRS that answers 409 to any POST holding this id, whatever it holds (some answer so for an identical
    resend, where Ralph answers 204); reads are forwarded."""
    def rule(request: Request, body: bytes) -> Response | None:
        if request.method == "POST" and statement_id.encode() in body:
            return Response(f'{{"detail": "statement {statement_id} exists"}}', status=409,
                            content_type="application/json")
        return None
    return rule


def too_large(limit: int) -> Callable[[Request, bytes], Response | None]:
    """A proxy with a body limit (nginx's client_max_body_size): 413 for any POST larger than `limit` bytes."""
    def rule(request: Request, body: bytes) -> Response | None:
        if request.method == "POST" and len(body) > limit:
            return Response("<html>413 Request Entity Too Large</html>", status=413, content_type="text/html")
        return None
    return rule


def fail_on(statement_id: str, status: int = 500) -> Callable[[Request, bytes], Response | None]:
    """An LRS that breaks on one statement (a bug of its own): `status` for any POST holding it."""
    def rule(request: Request, body: bytes) -> Response | None:
        if request.method == "POST" and (not statement_id or statement_id.encode() in body):
            return Response('{"detail": "Internal Server Error"}', status=status, content_type="application/json")
        return None
    return rule

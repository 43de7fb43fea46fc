"""Requests to platforms end by their deadline, however slowly the platform drips its answer."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from ibm_lms.lti.outbound import OutboundError, request_json

BODY = b'{"keys": []}'


class DrippingPlatform:
    """Answers one request, sending each byte of the dripped part `every` seconds (under the read timeout)."""

    def __init__(self, head: bytes, body: bytes, *, drip_head: bool, every: float):
        self.sent_everything = False
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1)
        self._parts = (head, body, drip_head, every)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/mod/lti/certs.php"

    def _serve(self) -> None:
        head, body, drip_head, every = self._parts
        with self._listener:
            connection, _ = self._listener.accept()
        with connection:
            connection.recv(65536)
            try:
                if not drip_head:
                    connection.sendall(head)
                for byte in (head + body if drip_head else body):
                    connection.sendall(bytes([byte]))
                    time.sleep(every)
            except OSError:
                return  # the tool hung up
        self.sent_everything = True

    def finished(self) -> bool:
        self._thread.join(timeout=60)
        return not self._thread.is_alive()


def _head(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)


@pytest.mark.parametrize("drip_head", [False, True], ids=["body", "headers"])
def test_a_dripped_answer_is_cut_off_at_the_deadline(drip_head):
    # Each byte arrives within the 0.5 s read timeout; the whole answer would take seconds more
    # than the exchange's 1 s deadline allows, so the tool must hang up before it has all of it.
    padded = BODY[:-1] + b" " * 40 + b"}"
    platform = DrippingPlatform(_head(padded), padded, drip_head=drip_head, every=0.1)
    with pytest.raises(OutboundError) as raised:
        request_json("GET", platform.url, timeout=0.5, max_bytes=65536)
    assert raised.value.reason.msgid == "the platform answered too slowly"
    assert platform.finished() and not platform.sent_everything


def test_an_answer_within_the_deadline_is_read():
    platform = DrippingPlatform(_head(BODY), BODY, drip_head=False, every=0.01)
    answer = request_json("GET", platform.url, timeout=2, max_bytes=65536)
    assert answer.status == 200 and answer.body == {"keys": []}
    assert platform.finished() and platform.sent_everything


def test_public_only_requests_refuse_loopback_after_connecting():
    platform = DrippingPlatform(_head(BODY), BODY, drip_head=False, every=0.01)
    with pytest.raises(OutboundError) as raised:
        request_json("GET", platform.url, timeout=2, max_bytes=65536, public_only=True)
    assert raised.value.reason.msgid == "the platform's address is not public"
    assert platform.finished() and not platform.sent_everything

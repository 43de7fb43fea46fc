"""The LTI room's requests to platforms: no redirects, a size cap, and a deadline for the whole exchange.

Platform URLs come from registrations, so a redirect could lead anywhere, a huge or
compressed body could exhaust memory, and a slow drip could hold a worker forever.

A socket timeout alone bounds each read, not the exchange: a server that sends one byte
just before every timeout keeps the request alive for hours. So every socket a request
opens is registered with a deadline, and a timer shuts the socket down when it passes;
whatever read is blocked then fails at once.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
import threading
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ibm_lms.errors import N_, Phrase


class OutboundError(Exception):
    """A request to a platform failed; the reason is safe to show (it names no internal detail)."""

    def __init__(self, msgid: str):
        self.reason = Phrase(msgid)
        super().__init__(self.reason)


@dataclass(frozen=True)
class JsonResponse:
    status: int
    body: object
    headers: requests.structures.CaseInsensitiveDict


@dataclass(frozen=True)
class RawResponse:
    """An answer whatever its body: a service call must see a 503 page as a 503, not as bad JSON."""

    status: int
    content: bytes
    headers: requests.structures.CaseInsensitiveDict

    def json(self):
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.content) if self.content else None
        except ValueError:
            return None


class _Deadline:
    """Shuts down every socket registered with it once `seconds` have passed."""

    def __init__(self, seconds: float):
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed: nothing left to interrupt
        sock.shutdown(socket.SHUT_RDWR)


class _AddressNotPublic(OSError):
    pass


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global


# What the request this thread is making allows; a connection opens its socket in that thread.
_current = threading.local()


class _WatchedConnectionMixin:
    def _new_conn(self):
        sock = super()._new_conn()
        deadline = getattr(_current, "deadline", None)
        if deadline is not None:
            # Registered before any TLS handshake or proxy tunnel, which read from it too.
            deadline.watch(sock)
        # The address actually connected to, so a name that resolves differently later cannot slip by.
        # Through a proxy the peer is the proxy, which resolves the name itself: nothing to check here.
        if getattr(_current, "public_only", False) and self.proxy is None and not _is_public(sock.getpeername()[0]):
            _current.refused_address = True
            sock.close()
            raise _AddressNotPublic("not a public address")
        return sock


class _WatchedHTTPConnection(_WatchedConnectionMixin, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnectionMixin, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter whose connections, direct or through a proxy, register their sockets."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


def request_json(method: str, url: str, *, timeout: float, max_bytes: int, public_only: bool = False,
                 **kwargs) -> JsonResponse:
    """One request and its JSON answer, all of it within twice `timeout` seconds.

    `public_only` refuses to talk to loopback, private, link-local or otherwise non-global addresses:
    for URLs that someone outside the academy's administrators may choose."""
    answer = request(method, url, timeout=timeout, max_bytes=max_bytes, public_only=public_only, **kwargs)
    try:
        body = json.loads(answer.content) if answer.content else None
    except ValueError as error:
        raise OutboundError(N_("the platform's answer is not JSON")) from error
    return JsonResponse(status=answer.status, body=body, headers=answer.headers)


def request(method: str, url: str, *, timeout: float, max_bytes: int, public_only: bool = False,
            **kwargs) -> RawResponse:
    """One request and its answer, with the same bounds as request_json, whatever the answer's body."""
    deadline = _Deadline(2 * timeout)
    _current.deadline, _current.public_only, _current.refused_address = deadline, public_only, False
    try:
        with requests.Session() as session:
            adapter = _WatchedAdapter()
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            answer = _exchange(session, method, url, timeout=timeout, max_bytes=max_bytes, **kwargs)
    except OutboundError as error:
        if _current.refused_address:
            raise OutboundError(N_("the platform's address is not public")) from error
        if deadline.expired and error.reason.msgid != N_("the platform's answer is too large"):
            raise OutboundError(N_("the platform answered too slowly")) from error
        raise
    finally:
        _current.deadline, _current.public_only = None, False
        deadline.cancel()
    if deadline.expired:
        # Cut off at the deadline, a body may still end where JSON can: it is not the platform's answer.
        raise OutboundError(N_("the platform answered too slowly"))
    return answer


def _exchange(session: requests.Session, method: str, url: str, *, timeout: float, max_bytes: int,
              **kwargs) -> RawResponse:
    try:
        response = session.request(
            method, url, timeout=timeout, allow_redirects=False, stream=True,
            headers={"Accept": "application/json", "User-Agent": "ibm-lms", **kwargs.pop("headers", {})},
            **kwargs,
        )
    except requests.Timeout as error:
        raise OutboundError(N_("the platform answered too slowly")) from error
    except requests.RequestException as error:
        raise OutboundError(N_("the platform could not be reached")) from error
    with response:
        if 300 <= response.status_code < 400:
            raise OutboundError(N_("the platform answered with a redirect, which is not followed"))
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(chunk_size=16384):
                size += len(chunk)
                if size > max_bytes:
                    raise OutboundError(N_("the platform's answer is too large"))
                chunks.append(chunk)
        except requests.RequestException as error:
            raise OutboundError(N_("the platform's answer could not be read")) from error
    return RawResponse(status=response.status_code, content=b"".join(chunks), headers=response.headers)

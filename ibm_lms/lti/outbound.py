"""The LTI room's requests to platforms: no redirects, a size cap, and a deadline for the whole exchange.

Platform URLs come from registrations, so a redirect could lead anywhere, a huge or
compressed body could exhaust memory, and a slow drip could hold a worker forever.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import requests

from ibm_lms.errors import N_, Reason


class OutboundError(Exception):
    """A request to a platform failed; the reason is safe to show (it names no internal detail)."""

    def __init__(self, msgid: str):
        self.reason = Reason(msgid)
        super().__init__(self.reason.english())


@dataclass(frozen=True)
class JsonResponse:
    status: int
    body: object
    headers: requests.structures.CaseInsensitiveDict


def request_json(method: str, url: str, *, timeout: float, max_bytes: int, **kwargs) -> JsonResponse:
    deadline = time.monotonic() + 2 * timeout
    try:
        response = requests.request(
            method, url, timeout=timeout, allow_redirects=False, stream=True,
            headers={"Accept": "application/json", "User-Agent": "ibm-lms", **kwargs.pop("headers", {})},
            **kwargs,
        )
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
                if time.monotonic() > deadline:
                    raise OutboundError(N_("the platform answered too slowly"))
                chunks.append(chunk)
        except requests.RequestException as error:
            raise OutboundError(N_("the platform's answer could not be read")) from error
    try:
        body = json.loads(b"".join(chunks)) if chunks else None
    except ValueError as error:
        raise OutboundError(N_("the platform's answer is not JSON")) from error
    return JsonResponse(status=response.status_code, body=body, headers=response.headers)

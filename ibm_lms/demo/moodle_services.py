"""Moodle's LTI Advantage services, played by the demo platform and by the tests' platform: tokens, line items,
scores, results, members.

Faithful where a tool could go wrong: the client assertion is verified with the tool's published
keys, scopes are checked against the platform's mode (Moodle's "grade sync only" or "grade sync
and column management"), media types are enforced, URLs carry Moodle's ?type_id=, a score is
refused (409) unless its timestamp is a later second than the one held, as Moodle compares them,
a score for someone the gradebook does not grade (a teacher, an administrator) is refused (400),
the token endpoint answers every refusal with 400 and grants the permitted part of what is asked,
both modes send the column list's address, members come in one page without a differences link
(paging and differences, which other platforms use, are switched on by tests). The state
lives in memory: the demo's gradebook empties when the demo stops, as a test platform's does.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, urlencode

import jwt
from werkzeug.wrappers import Request, Response

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
LINEITEM, LINEITEM_READONLY, SCORE, RESULT = (AGS + "lineitem", AGS + "lineitem.readonly", AGS + "score",
                                              AGS + "result.readonly")
MEMBERSHIPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MODES = {
    # Moodle: "Use this service for grade sync and column management".
    "column_management": (LINEITEM, LINEITEM_READONLY, SCORE, RESULT, MEMBERSHIPS),
    # Moodle: "Use this service for grade sync only": scores to the link's own column, no new columns.
    "sync_only": (LINEITEM_READONLY, SCORE, RESULT, MEMBERSHIPS),
}
COURSE = "2"
TYPE_ID = "type_id=1"


@dataclass
class MoodleServices:
    """State of the platform's services, at Moodle's paths below `base_url`; the demo's lives as long as the demo,
    a test platform's is made anew for every test."""

    base_url: str = ""
    mode: str | None = "column_management"
    # The tool's published key set, as the platform fetches it.
    tool_jwks: Callable[[], dict] | None = None
    client_id: str = ""
    token_url: str = ""
    # Where the platform's own paths start on its server: "" for a server of its own, "/demo/platform" in the demo.
    path_prefix: str = ""
    tokens: dict = field(default_factory=dict)
    token_requests: int = 0
    line_items: dict = field(default_factory=dict)
    # Line item id per LTI resource link id: the column Moodle made for a graded activity.
    link_items: dict = field(default_factory=dict)
    scores: dict = field(default_factory=dict)  # line item id -> {userId: score}
    score_posts: list = field(default_factory=list)  # every score accepted, in order
    members: list = field(default_factory=list)
    # Who launched without a student's role: Moodle's gradebook grades only its students (its "graded roles").
    not_graded: set = field(default_factory=set)
    # Moodle answers with every member in one page and offers no differences link; other platforms page (a test
    # sets a page size) or offer one (a test switches it on), and the tool follows both.
    page_size: int | None = None
    offer_differences: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def claims(self, resource_link_id: str) -> dict:
        """The AGS and NRPS claims of a launch from this link, as Moodle sends them in the current mode."""
        if self.mode is None:
            return {}
        scopes = [s for s in MODES[self.mode] if s != MEMBERSHIPS]
        # In both modes Moodle sends the column list's address; only the scopes say whether columns can be made.
        endpoint = {"scope": scopes,
                    "lineitems": f"{self.base_url}/mod/lti/services.php/{COURSE}/lineitems?{TYPE_ID}"}
        item = self.link_items.get(resource_link_id)
        if item is not None:
            endpoint["lineitem"] = self.line_items[item]["id"]
        return {
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": endpoint,
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": f"{self.base_url}/mod/lti/services.php/CourseSection/{COURSE}/bindings/1/"
                                           "memberships",
                "service_versions": ["1.0", "2.0"]},
        }

    def enrol(self, subject: str, roles) -> None:
        """What a launch tells the gradebook about its user: a Learner is graded, anyone else is not (Moodle
        sends a site administrator without Learner, and refuses a score for a teacher)."""
        if any(isinstance(role, str) and role.rsplit("#", 1)[-1] == "Learner" for role in roles or ()):
            self.not_graded.discard(subject)
        else:
            self.not_graded.add(subject)

    def graded_link(self, resource_link_id: str, label: str = "Graded activity", maximum: float = 100) -> dict:
        """A link whose activity has a grade: Moodle makes its column when the activity is made."""
        item = self._new_item({"label": label, "scoreMaximum": maximum, "resourceLinkId": resource_link_id})
        self.link_items[resource_link_id] = item["_key"]
        return item

    def _new_item(self, body: dict) -> dict:
        key = str(len(self.line_items) + 1)
        item = {**body, "_key": key,
                "id": f"{self.base_url}/mod/lti/services.php/{COURSE}/lineitems/{key}/lineitem?{TYPE_ID}"}
        self.line_items[key] = item
        return item

    # -- the HTTP side ----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response | None:
        """The answer to a request for one of these services, or None when the path is not one of theirs."""
        path = self._path(request)
        if path == "/mod/lti/token.php":
            return self.serve(request, self._token)
        if path is not None and path.startswith("/mod/lti/services.php/"):
            return self.serve(request, self._service)
        return None

    def serve(self, request: Request, handler: Callable[[Request], Response]) -> Response:
        """One request at a time: the state is shared by the server's threads."""
        with self.lock:
            return handler(request)

    def _path(self, request: Request) -> str | None:
        if not request.path.startswith(self.path_prefix + "/"):
            return None
        return request.path[len(self.path_prefix):]

    def _token(self, request: Request) -> Response:
        self.token_requests += 1
        form = request.form
        if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != \
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return _json({"error": "unsupported_grant_type"}, 400)
        try:
            header = jwt.get_unverified_header(form.get("client_assertion", ""))
            keys = {k["kid"]: k for k in self.tool_jwks()["keys"]}
            key = jwt.PyJWK(keys[header["kid"]]).key
            claims = jwt.decode(form["client_assertion"], key, algorithms=["RS256"], audience=self.token_url,
                                issuer=self.client_id)
        except (jwt.PyJWTError, KeyError, TypeError) as error:
            # Moodle's token.php answers every refusal with 400, invalid_client included.
            return _json({"error": "invalid_client", "error_description": str(error)}, 400)
        if claims.get("sub") != self.client_id or not claims.get("jti"):
            return _json({"error": "invalid_client"}, 400)
        # Moodle grants the scopes asked for that the tool's settings permit, and refuses only when none is.
        allowed = MODES.get(self.mode or "", ())
        granted = [scope for scope in form.get("scope", "").split() if scope in allowed]
        if not granted:
            return _json({"error": "invalid_scope"}, 400)
        token = secrets.token_urlsafe(24)
        self.tokens[token] = set(granted)
        return _json({"access_token": token, "token_type": "Bearer", "expires_in": 3600,
                      "scope": " ".join(granted)})

    def _scopes(self, request: Request) -> set[str] | None:
        found = re.fullmatch(r"Bearer (\S+)", request.headers.get("Authorization", ""))
        return self.tokens.get(found.group(1)) if found else None

    def _service(self, request: Request) -> Response:
        scopes = self._scopes(request)
        if scopes is None:
            return _json({"error": "invalid_token"}, 401)
        if request.args.get("type_id") != "1" and "/memberships" not in request.path:
            return _json({"error": "type_id missing"}, 400)
        path = self._path(request)[len("/mod/lti/services.php/"):]
        if path == f"{COURSE}/lineitems":
            return self._line_items(request, scopes)
        found = re.fullmatch(rf"{COURSE}/lineitems/(\d+)/lineitem(/scores|/results)?", path)
        if found:
            return self._line_item(request, scopes, found.group(1), found.group(2))
        if path == f"CourseSection/{COURSE}/bindings/1/memberships":
            return self._memberships(request, scopes)
        return _json({"error": "not found"}, 404)

    def _line_items(self, request: Request, scopes: set[str]) -> Response:
        if request.method == "GET":
            if not scopes & {LINEITEM, LINEITEM_READONLY}:
                return _json({"error": "scope"}, 403)
            if "application/vnd.ims.lis.v2.lineitemcontainer+json" not in request.headers.get("Accept", ""):
                return _json({"error": "media type"}, 406)
            items = [_public(i) for i in self.line_items.values()
                     if all(i.get(k) == request.args[a] for a, k in (("resource_id", "resourceId"),
                                                                     ("resource_link_id", "resourceLinkId"))
                            if a in request.args)]
            return Response(json.dumps(items), mimetype="application/vnd.ims.lis.v2.lineitemcontainer+json")
        if LINEITEM not in scopes or self.mode != "column_management":
            return _json({"error": "scope"}, 403)
        if request.mimetype != "application/vnd.ims.lis.v2.lineitem+json":
            return _json({"error": "media type"}, 415)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("scoreMaximum"), int | float) or not body.get("label"):
            return _json({"error": "invalid line item"}, 400)
        item = self._new_item({k: body[k] for k in ("label", "scoreMaximum", "resourceId", "resourceLinkId", "tag")
                               if k in body})
        return Response(json.dumps(_public(item)), status=201, mimetype="application/vnd.ims.lis.v2.lineitem+json")

    def _line_item(self, request: Request, scopes: set[str], key: str, part: str | None) -> Response:
        item = self.line_items.get(key)
        if item is None:
            return _json({"error": "no such line item"}, 404)
        if part == "/scores":
            if request.method != "POST" or SCORE not in scopes:
                return _json({"error": "scope"}, 403)
            if request.mimetype != "application/vnd.ims.lis.v1.score+json":
                return _json({"error": "media type"}, 415)
            score = request.get_json(silent=True)
            needed = ("userId", "activityProgress", "gradingProgress", "timestamp")
            if not isinstance(score, dict) or any(k not in score for k in needed) or not _is_time(score["timestamp"]):
                return _json({"error": "invalid score"}, 400)
            if "scoreGiven" in score and not 0 <= score["scoreGiven"] <= score.get("scoreMaximum", -1):
                return _json({"error": "scoreGiven out of range"}, 400)
            if score["userId"] in self.not_graded:
                return Response("Incorrect score received", status=400)
            held = self.scores.setdefault(key, {}).get(score["userId"])
            # Moodle keeps the grade's time in whole seconds and refuses a score that is not a later second.
            if held is not None and _second(held["timestamp"]) >= _second(score["timestamp"]):
                return Response(f"Refusing score with an earlier timestamp for item {key} and user "
                                f"{score['userId']}", status=409)
            self.score_posts.append({"line_item": key, **score})
            self.scores[key][score["userId"]] = score
            return Response(status=200)
        if part == "/results":
            if RESULT not in scopes:
                return _json({"error": "scope"}, 403)
            results = [{"userId": u, "resultScore": s.get("scoreGiven"), "resultMaximum": s.get("scoreMaximum"),
                        "scoreOf": item["id"]} for u, s in self.scores.get(key, {}).items()]
            return Response(json.dumps(results), mimetype="application/vnd.ims.lis.v2.resultcontainer+json")
        return Response(json.dumps(_public(item)), mimetype="application/vnd.ims.lis.v2.lineitem+json")

    def _memberships(self, request: Request, scopes: set[str]) -> Response:
        if MEMBERSHIPS not in scopes:
            return _json({"error": "scope"}, 403)
        if "application/vnd.ims.lti-nrps.v2.membershipcontainer+json" not in request.headers.get("Accept", ""):
            return _json({"error": "media type"}, 406)
        members = [m for m in self.members if "rlid" not in request.args or request.args["rlid"] in m.get("links", ())]
        start = int(request.args.get("page", "0"))
        size = self.page_size or max(len(members), 1)
        page = members[start * size:(start + 1) * size]
        base = f"{self.base_url}{self._path(request)}"
        query = {k: v[0] for k, v in parse_qs(request.query_string.decode()).items() if k != "page"}
        links = []
        if (start + 1) * size < len(members):
            links.append(f'<{base}?{urlencode({**query, "page": start + 1})}>; rel="next"')
        if self.offer_differences:
            links.append(f'<{base}?{urlencode({**query, "since": "1"})}>; rel="differences"')
        body = {"id": base, "context": {"id": "demo-course-1", "label": "IBM-101", "title": "IBM Training"},
                "members": [{k: v for k, v in m.items() if k != "links"} for m in page]}
        return Response(json.dumps(body), headers={"Link": ", ".join(links)},
                        mimetype="application/vnd.ims.lti-nrps.v2.membershipcontainer+json")


def _is_time(timestamp) -> bool:
    try:
        _second(timestamp)
    except (AttributeError, TypeError, ValueError):
        return False
    return True


def _second(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())


def _public(item: dict) -> dict:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")

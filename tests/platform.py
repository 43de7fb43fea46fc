"""A faithful stand-in for Moodle as an LTI 1.3 platform, served over real HTTP on loopback.

It signs real RS256 id tokens with its own key, publishes its JWKS (counting fetches),
answers the OIDC authorisation request with a form post like Moodle's auth.php, frames
the tool in a course page, and plays the platform side of Dynamic Registration.
"""

from __future__ import annotations

import html
import json
import threading
import time
from dataclasses import MISSING, dataclass, field, fields
from urllib.parse import urlencode

from werkzeug.serving import load_ssl_context, make_server
from werkzeug.wrappers import Request, Response

from ibm_lms.demo.platform import DEMO_USERS, DemoUser, MoodleEndpoints, SimulatedPlatform
from tests.platform_services import Services


def make_test_server(host: str, port: int, app, *, certificate: tuple[str, str] | None = None):
    """A threaded server for tests; over TLS each connection's handshake runs in that connection's thread.

    werkzeug's own TLS server shakes hands in its accept loop, so a client that connects and says
    nothing (a browser's speculative connection) would stop the whole server until it gave up.
    """
    server = make_server(host, port, app, threaded=True)
    if certificate is None:
        return server
    context = load_ssl_context(*certificate)
    server.ssl_context = context  # what werkzeug reads to report https to the app
    serve_plain = server.finish_request

    def finish_request(connection, client_address):
        connection.settimeout(10)
        try:
            secured = context.wrap_socket(connection, server_side=True)
        except OSError:  # includes ssl.SSLError: a client that gave up or spoke no TLS
            return
        with secured:
            serve_plain(secured, client_address)

    server.finish_request = finish_request
    return server


# The platform side of LTI client-side storage, as the 1EdTech postMessage spec describes it.
STORAGE_RESPONDER = """<script>
var stored = {};
setTimeout(function () { window.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.subject === "lti.put_data") {
    stored[event.origin + "|" + data.key] = data.value;
    event.source.postMessage({subject: "lti.put_data.response", message_id: data.message_id,
                              key: data.key, value: data.value}, event.origin);
  } else if (data.subject === "lti.get_data") {
    event.source.postMessage({subject: "lti.get_data.response", message_id: data.message_id,
                              key: data.key, value: stored[event.origin + "|" + data.key]}, event.origin);
  }
}); }, LISTEN_AFTER_MS);
</script>"""


@dataclass
class PlatformServer(MoodleEndpoints):
    """The HTTP face of a SimulatedPlatform."""

    host: str = "127.0.0.1"
    ssl_context: object | None = None
    public_host: str | None = None
    jwks_cache_control: str = "max-age=3600"
    jwks_fetches: int = 0
    # Seconds the key set takes to arrive, so tests can make launches overlap a fetch.
    jwks_delay: float = 0.0
    registrations: list = field(default_factory=list)
    # Every path the platform was asked for, in order (what the tool sent its way).
    requests_seen: list = field(default_factory=list)
    tool_base_url: str = ""
    user: DemoUser = DEMO_USERS["trainee"]
    # When set, the platform offers LTI client-side postMessage storage under this target name.
    storage_target: str | None = None
    # How long the platform's page takes to start answering storage messages (a slow platform page).
    storage_listens_after_ms: int = 0
    # Its Assignment and Grade Services and Names and Role Provisioning (tests/platform_services.py).
    services: Services = field(default_factory=Services)

    def __post_init__(self):
        self._server = make_test_server(self.host, 0, self._app, certificate=self.ssl_context)
        self.port = self._server.server_port
        scheme = "https" if self.ssl_context else "http"
        self.base_url = f"{scheme}://{self.public_host or self.host}:{self.port}"
        self.sim = SimulatedPlatform(issuer=self.base_url, client_id="moodle-client-1", deployment_id="1")
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._fresh_services()

    def _fresh_services(self) -> None:
        self.services = Services(base_url=self.base_url, client_id=self.sim.client_id, token_url=self.token_url)

    # What a test may change or the server records; the rest is fixed when the server is built.
    _PER_TEST = ("jwks_cache_control", "jwks_fetches", "jwks_delay", "registrations", "requests_seen", "user",
                 "storage_target", "storage_listens_after_ms")

    def reset(self) -> None:
        """Back to the defaults, so that a server shared by many tests carries nothing from one to the next."""
        for spec in fields(self):
            if spec.name in self._PER_TEST:
                setattr(self, spec.name, spec.default_factory() if spec.default is MISSING else spec.default)
        self._fresh_services()

    def start(self) -> PlatformServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def _app(self, environ, start_response):
        request = Request(environ)
        self.requests_seen.append(request.path)
        served = self.services.handle(request)
        if served is not None:
            return served(environ, start_response)
        handler = {
            "/mod/lti/certs.php": self._jwks,
            "/mod/lti/auth.php": self._authorize,
            "/course/view.php": self._course_page,
            "/.well-known/openid-configuration": self._openid_configuration,
            "/mod/lti/register.php": self._register,
            "/cookie-probe": self._cookie_probe,
            "/frame-probe": self._frame_probe,
        }.get(request.path)
        response = handler(request) if handler else Response("not found", status=404)
        return response(environ, start_response)

    def _jwks(self, request: Request) -> Response:
        self.jwks_fetches += 1
        if self.jwks_delay:
            time.sleep(self.jwks_delay)
        response = Response(json.dumps(self.sim.jwks()), mimetype="application/json")
        if self.jwks_cache_control:
            response.headers["Cache-Control"] = self.jwks_cache_control
        return response

    def _authorize(self, request: Request) -> Response:
        args = request.args
        problems = self.sim.authentication_request_problems(args, redirect_uri=self.tool_base_url + "/lti/launch")
        if problems == [] and args.get("login_hint") and args["login_hint"] != self.user.subject:
            # As Moodle's auth.php: someone else signed in since the activity was opened; the error goes back
            # to the tool's redirect URI with the state, in place of an id token.
            return self._post_back({"error": "access_denied", "error_description": "User login not valid",
                                    "state": args["state"]}, args["redirect_uri"])
        if problems:
            return Response("invalid authentication request: " + ", ".join(problems), status=400)
        # As Moodle does, the message hint says which activity is being launched: here its locale and target.
        locale, _, target = (args.get("lti_message_hint") or "en").partition(" ")
        claims = self.sim.launch_claims(
            nonce=args["nonce"], target_link_uri=self.tool_base_url + (target or "/courses/"), user=self.user,
            locale=locale,
        )
        claims.update(self.services.claims("demo-link-1"))
        self.services.enrol(self.user.subject, self.user.roles)
        fields = {"id_token": self.sim.sign(claims), "state": args["state"]}
        if self.storage_target:
            fields["lti_storage_target"] = self.storage_target
        return self._post_back(fields, args["redirect_uri"])

    @staticmethod
    def _post_back(fields: dict, redirect_uri: str) -> Response:
        inputs = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in fields.items()
        )
        page = (
            f'<!doctype html><html><body><form id="f" method="post" action="{html.escape(redirect_uri)}">'
            f"{inputs}</form><script>document.getElementById('f').submit()</script></body></html>"
        )
        return Response(page, mimetype="text/html")

    def login_url(self, locale: str = "en", target: str = "/courses/") -> str:
        """The login an activity link starts; `target` is the tool path the activity points at."""
        params = self.sim.login_parameters(
            target_link_uri=self.tool_base_url + target, login_hint=self.user.subject,
            message_hint=f"{locale} {target}" if target != "/courses/" else locale,
        )
        if self.storage_target:
            params["lti_storage_target"] = self.storage_target
        return self.tool_base_url + "/lti/login?" + urlencode(params)

    def _course_page(self, request: Request) -> Response:
        locale = request.args.get("locale", "en")
        target = request.args.get("target", "/courses/")
        if not target.startswith("/") or target.startswith("//"):
            return Response("target must be a path of the tool", status=400)
        responder = STORAGE_RESPONDER.replace("LISTEN_AFTER_MS", str(self.storage_listens_after_ms))
        page = (
            "<!doctype html><html><head><title>Moodle course</title></head><body>"
            "<h1>Border Guard Academy: IBM course</h1>"
            # Listening before the frame exists, as a platform that offers storage does.
            f"{responder if self.storage_target else ''}"
            f'<iframe id="tool" name="tool" src="{html.escape(self.login_url(locale, target))}" '
            'style="width:100%;height:600px" allow="fullscreen"></iframe></body></html>'
        )
        return Response(page, mimetype="text/html")

    def _cookie_probe(self, request: Request) -> Response:
        """Served under the tool's host name: shows whether the browser keeps third-party cookies in a frame."""
        if request.args.get("set"):
            response = Response("set", mimetype="text/plain")
            response.set_cookie("probe_plain", "1", secure=True, samesite="None")
            response.set_cookie("probe_partitioned", "1", secure=True, samesite="None", partitioned=True)
            return response
        return Response(json.dumps(sorted(request.cookies)), mimetype="application/json")

    def _frame_probe(self, request: Request) -> Response:
        src = html.escape(request.args.get("src", ""))
        return Response(f'<!doctype html><iframe id="probe" src="{src}"></iframe>', mimetype="text/html")

    def _openid_configuration(self, request: Request) -> Response:
        return Response(json.dumps({
            "issuer": self.base_url,
            "authorization_endpoint": self.auth_login_url,
            "token_endpoint": self.token_url,
            "jwks_uri": self.keyset_url,
            "registration_endpoint": self.base_url + "/mod/lti/register.php",
            "scopes_supported": ["openid", "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                                 "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"],
            "response_types_supported": ["id_token"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": "moodle", "version": "4.5",
                "messages_supported": [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}],
            },
        }), mimetype="application/json")

    def _register(self, request: Request) -> Response:
        if request.headers.get("Authorization") != "Bearer registration-token-1":
            return Response(json.dumps({"error": "invalid token"}), status=401, mimetype="application/json")
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return Response(json.dumps({"error": "invalid body"}), status=400, mimetype="application/json")
        self.registrations.append(body)
        client_id = f"registered-client-{len(self.registrations)}"
        answer = {**body, "client_id": client_id,
                  "https://purl.imsglobal.org/spec/lti-tool-configuration": {
                      **body.get("https://purl.imsglobal.org/spec/lti-tool-configuration", {}),
                      "deployment_id": f"deployment-{len(self.registrations)}"}}
        return Response(json.dumps(answer), mimetype="application/json")

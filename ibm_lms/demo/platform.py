"""A simulated LTI 1.3 platform: its own RSA key, its JWKS, and id tokens as a real platform signs them.

`ibm-lms demo` serves it so a launch can be tried with nothing else installed; the
tests drive it over real HTTP to play Moodle's part.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ibm_lms.lti.data import CLAIM_DEEP_LINKING, DEEP_LINKING_REQUEST, LTI, RESOURCE_LINK_ITEM, RESOURCE_LINK_REQUEST

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
INSTITUTION_ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"


@dataclass(frozen=True)
class DemoUser:
    subject: str
    given_name: str
    family_name: str
    email: str
    roles: tuple[str, ...]


DEMO_USERS = {
    "trainee": DemoUser("demo-trainee-1", "Nino", "Beridze", "trainee@demo.invalid", (LEARNER,)),
    "instructor": DemoUser("demo-instructor-1", "Oksana", "Kovalenko", "instructor@demo.invalid", (INSTRUCTOR,)),
    # The academy's own Moodle administrator: sees the certification dashboard and may approve.
    "administrator": DemoUser("demo-admin-1", "Levan", "Abashidze", "admin@demo.invalid",
                              (INSTITUTION_ADMINISTRATOR, INSTRUCTOR)),
}


def new_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    key = new_private_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
    )
    path.chmod(0o600)
    return key


class MoodleEndpoints:
    """Where a Moodle 4.x site serves its LTI 1.3 endpoints, below its web root (`base_url`)."""

    base_url: str

    @property
    def auth_login_url(self) -> str:
        return self.base_url + "/mod/lti/auth.php"

    @property
    def token_url(self) -> str:
        return self.base_url + "/mod/lti/token.php"

    @property
    def keyset_url(self) -> str:
        return self.base_url + "/mod/lti/certs.php"


@dataclass
class SimulatedPlatform:
    issuer: str
    client_id: str
    deployment_id: str
    private_key: rsa.RSAPrivateKey = field(default_factory=new_private_key)
    kid: str = field(default_factory=lambda: "platform-" + secrets.token_hex(4))

    def jwks(self) -> dict:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def launch_claims(
        self,
        *,
        nonce: str,
        target_link_uri: str,
        user: DemoUser,
        locale: str | None = "en",
        context: dict | None = None,
        resource_link: dict | None = None,
        message_type: str = RESOURCE_LINK_REQUEST,
        deep_link_return_url: str | None = None,
    ) -> dict:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": user.subject,
            "exp": now + 60,  # as Moodle signs its id tokens (lti_sign_jwt)
            "iat": now,
            "nonce": nonce,
            "given_name": user.given_name,
            "family_name": user.family_name,
            "name": f"{user.given_name} {user.family_name}",
            "email": user.email,
            LTI + "message_type": message_type,
            LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": target_link_uri,
            LTI + "roles": list(user.roles),
            LTI + "context": context or {"id": "demo-course-1", "label": "IBM-101",
                                         "title": "IBM Training (demo course)",
                                         "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]},
            LTI + "tool_platform": {"guid": "demo-platform", "name": "IBM Training demo platform",
                                    # Moodle's claim mapping names the family "family_code".
                                    "family_code": "moodle", "version": "1"},
        }
        if message_type == RESOURCE_LINK_REQUEST:
            claims[LTI + "resource_link"] = resource_link or {"id": "demo-link-1", "title": "IBM Training Suite"}
        if message_type == DEEP_LINKING_REQUEST:
            claims[CLAIM_DEEP_LINKING] = {
                "deep_link_return_url": deep_link_return_url, "accept_types": [RESOURCE_LINK_ITEM],
                "accept_presentation_document_targets": ["iframe", "window"], "accept_multiple": True,
                "data": "demo-selection",
            }
        if locale:
            claims[LTI + "launch_presentation"] = {"locale": locale, "document_target": "iframe"}
        return claims

    def sign(self, claims: dict, *, kid: str | None = None, algorithm: str = "RS256", key=None) -> str:
        return jwt.encode(
            claims,
            key if key is not None else self.private_key,
            algorithm=algorithm,
            headers={"kid": kid if kid is not None else self.kid},
        )

    def authentication_request_problems(self, args: Mapping[str, str], *, redirect_uri: str) -> list[str]:
        """The parameters of an OIDC authentication request (LTI 1.3 Core 5.1.1.2) that a platform refuses."""
        expected = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
                    "prompt": "none", "client_id": self.client_id, "redirect_uri": redirect_uri}
        problems = [name for name, value in expected.items() if args.get(name) != value]
        return problems + [name for name in ("nonce", "state", "login_hint") if not args.get(name)]

    def login_parameters(self, *, target_link_uri: str, login_hint: str, message_hint: str = "") -> dict:
        params = {
            "iss": self.issuer,
            "login_hint": login_hint,
            "target_link_uri": target_link_uri,
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }
        if message_hint:
            params["lti_message_hint"] = message_hint
        return params


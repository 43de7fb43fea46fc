"""Records and names the LTI room hands to other rooms: claim names, the typed claims of a launch, a
platform registration and the outcome of a launch (plain values, never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ibm_lms.tenancy.data import RecordedIdentity

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
CLAIM_MESSAGE_TYPE = LTI + "message_type"
CLAIM_VERSION = LTI + "version"
CLAIM_DEPLOYMENT_ID = LTI + "deployment_id"
CLAIM_TARGET_LINK_URI = LTI + "target_link_uri"
CLAIM_RESOURCE_LINK = LTI + "resource_link"
CLAIM_ROLES = LTI + "roles"
CLAIM_CONTEXT = LTI + "context"
CLAIM_PRESENTATION = LTI + "launch_presentation"
CLAIM_CUSTOM = LTI + "custom"
CLAIM_LIS = LTI + "lis"
CLAIM_TOOL_PLATFORM = LTI + "tool_platform"
CLAIM_DEEP_LINKING = DL + "deep_linking_settings"
CLAIM_AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CLAIM_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_RESULT = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_MEMBERSHIPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
CLAIM_CONTENT_ITEMS = DL + "content_items"
CLAIM_DEEP_LINKING_DATA = DL + "data"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
MESSAGE_TYPES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST)
# The content item type of a link to one of the tool's pages.
RESOURCE_LINK_ITEM = "ltiResourceLink"


@dataclass(frozen=True)
class ContextClaim:
    """The course (or group) the launch comes from."""

    id: str
    label: str | None = None
    title: str | None = None
    types: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceLinkClaim:
    """The activity in the platform's course that was clicked."""

    id: str
    title: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class LisClaim:
    """The platform's student-information-system identifiers, when it sends them."""

    person_sourcedid: str | None = None
    course_offering_sourcedid: str | None = None
    course_section_sourcedid: str | None = None


@dataclass(frozen=True)
class DeepLinkingSettings:
    """What a content-selection request accepts back (LTI Deep Linking 2.0, section 4.4.1)."""

    return_url: str
    accept_types: tuple[str, ...]
    accept_presentation_document_targets: tuple[str, ...] = ()
    accept_media_types: str | None = None
    accept_multiple: bool = True
    accept_lineitem: bool | None = None
    auto_create: bool = False
    title: str | None = None
    text: str | None = None
    data: str | None = None


@dataclass(frozen=True)
class AgsEndpoint:
    """What Assignment and Grade Services the launch's link offers (AGS 2.0, section 3.1)."""

    scopes: tuple[str, ...]
    lineitems: str | None = None
    lineitem: str | None = None

    @property
    def manages_columns(self) -> bool:
        """Moodle's "grade sync and column management": the tool may find and create line items."""
        return SCOPE_LINEITEM in self.scopes


@dataclass(frozen=True)
class NrpsService:
    """Where the context's membership can be read (NRPS 2.0)."""

    memberships_url: str
    versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class LaunchClaims:
    """An id token's claims after every check: the only form in which the rest of the tool sees them."""

    nonce: str
    issuer: str
    client_id: str
    subject: str
    deployment_id: str
    message_type: str
    roles: tuple[str, ...]
    target_link_uri: str
    resource_link: ResourceLinkClaim | None = None
    context: ContextClaim | None = None
    locale: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    name: str | None = None
    email: str | None = None
    custom: dict[str, str] = field(default_factory=dict)
    lis: LisClaim | None = None
    deep_linking: DeepLinkingSettings | None = None
    ags: AgsEndpoint | None = None
    nrps: NrpsService | None = None


@dataclass(frozen=True)
class PlatformRecord:
    """One client registration of a platform (issuer + client id) and its deployments."""

    id: int
    tenant_id: int
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    keyset_url: str
    deployment_ids: frozenset[str]
    name: str | None = None
    auth_audience: str | None = None
    disabled: bool = False


@dataclass(frozen=True)
class CompletedLaunch:
    identity: RecordedIdentity
    claims: LaunchClaims
    locale: str
    resource_link_id: int | None
    landing_path: str
    via_platform_storage: bool = False
    deep_link_request_id: str | None = None


@dataclass(frozen=True)
class PendingLogin:
    """A login still waiting for its launch: its parameters, to start it again in a new window, and where
    its client-side storage messages go, if it asked for storage."""

    params: dict
    storage_origin: str | None


@dataclass(frozen=True)
class DeepLinkingResponse:
    return_url: str
    token: str


@dataclass(frozen=True)
class PlatformConfiguration:
    """The parts of a platform's OpenID configuration (LTI Dynamic Registration 3.3) the tool uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    authorization_server: str | None = None
    scopes_supported: frozenset[str] = frozenset()
    product_family_code: str | None = None


@dataclass(frozen=True)
class RegistrationResult:
    issuer: str
    client_id: str
    deployment_id: str | None
    tenant_slug: str
    platform_name: str | None


@dataclass(frozen=True)
class Invitation:
    url: str
    tenant_slug: str
    expires_at: datetime
    id: int = 0


@dataclass(frozen=True)
class GradebookLinkHealth:
    """How scores fare on their way to one registration's gradebook."""

    pending: int = 0
    parked: int = 0
    delivered: int = 0
    last_delivered_at: datetime | None = None
    # The platform's HTTP status for the newest score still on its way (0: it did not answer).
    last_failure_status: int | None = None


@dataclass(frozen=True)
class InvitationRecord:
    """An invitation as an administrator lists it: its state is open, used, expired or revoked."""

    id: int
    created_at: datetime
    expires_at: datetime
    state: str
    used_at: datetime | None = None
    used_by_issuer: str | None = None
    revoked_at: datetime | None = None

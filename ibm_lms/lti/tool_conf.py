"""pylti1p3's tool configuration, read from the platform directory."""

from __future__ import annotations

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract

from . import platforms
from .data import PlatformRecord


class DatabaseToolConf(ToolConfAbstract):
    """Every issuer may have several client ids, so lookups always use (issuer, client_id)."""

    def __init__(self) -> None:
        # Per-instance, so pylti1p3's class-level relation map is never shared between requests.
        self.issuers_relation_types = {}
        self.platform: PlatformRecord | None = None

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_platform(self, iss: str, client_id: str | None) -> PlatformRecord | None:
        """The registration, remembered as the one this request is about (its launch reads it afterwards)."""
        self.platform = platforms.directory().find(iss, client_id)
        return self.platform

    def issuer_is_registered(self, iss: str) -> bool:
        return platforms.issuer_is_registered(iss)

    def find_registration_by_issuer(self, iss: str, *args, **kwargs) -> Registration | None:
        return self.find_registration_by_params(iss, None)

    def find_registration_by_params(self, iss: str, client_id: str | None, *args, **kwargs):
        platform = self.find_platform(iss, client_id)
        if platform is None:
            return None
        registration = Registration()
        registration.set_issuer(platform.issuer).set_client_id(platform.client_id)
        registration.set_auth_login_url(platform.auth_login_url).set_auth_token_url(platform.auth_token_url)
        registration.set_key_set_url(platform.keyset_url)
        if platform.auth_audience:
            registration.set_auth_audience(platform.auth_audience)
        return registration

    def find_deployment(self, iss: str, deployment_id: str) -> LtiDeployment | None:
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(self, iss: str, deployment_id: str, client_id: str | None, *args, **kwargs):
        directory = platforms.directory()
        platform = directory.find(iss, client_id)
        if platform is None or not deployment_id or not directory.has_deployment(platform, deployment_id):
            return None
        return LtiDeployment().set_deployment_id(deployment_id)

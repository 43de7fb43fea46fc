"""Errors of the tenancy room."""

from ibm_lms.errors import N_, DomainError


class NotSignedIn(DomainError):
    status = 401
    code = "not_signed_in"
    message = N_("Your session has ended. Please open this tool again from your Moodle course.")


class UnknownTenant(DomainError):
    status = 404
    code = "unknown_tenant"
    message = N_("There is no tenant named %(slug)s.")


class InvalidTenantSlug(DomainError):
    code = "invalid_tenant"
    message = N_("A tenant name may use lower-case letters, digits and hyphens (2 to 64 characters).")


class TenantExists(DomainError):
    status = 409
    code = "tenant_exists"
    message = N_("There is already a tenant named %(slug)s.")


class InvalidTenantName(DomainError):
    code = "invalid_tenant_name"
    message = N_("A tenant's name is one line of at most 255 characters, with no characters that reverse the text.")


class UnknownPerson(DomainError):
    status = 404
    code = "unknown_person"
    message = N_("Nobody with the platform id %(who)s has opened the tool yet; they must launch it once first.")

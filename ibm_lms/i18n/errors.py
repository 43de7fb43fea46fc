"""Errors of the i18n room."""

from ibm_lms.errors import N_, DomainError


class UnsupportedLocale(DomainError):
    code = "unsupported_locale"
    message = N_("The language %(locale)s is not available.")


class CatalogError(DomainError):
    code = "catalog_error"
    message = N_("The translation catalogs have problems.")

"""Errors of the LTI room: each refusal names its reason, shown to the user in their locale."""

from ibm_lms.errors import N_, DomainError


class LtiError(DomainError):
    status = 400
    code = "lti_error"
    message = N_("The launch could not be completed.")


class LoginRejected(LtiError):
    code = "login_rejected"
    message = N_("The login request is invalid: %(reason)s")


class UnknownPlatform(LtiError):
    code = "unknown_platform"
    message = N_("This platform is not registered with the tool (issuer %(issuer)s, client %(client_id)s).")


class LaunchRejected(LtiError):
    """A launch refused for a specific reason; the reason's msgid is the message."""

    code = "launch_rejected"


class PlatformRefusedSignIn(LtiError):
    """The platform posted an OpenID Connect error back instead of an id token (Moodle's auth.php does so)."""

    code = "platform_refused_sign_in"
    message = N_("Moodle did not sign you in to the tool (%(error)s). Open the activity again from your Moodle "
                 "course; if this happens again, tell your Moodle administrator.")


class SignedInAsSomeoneElse(PlatformRefusedSignIn):
    # Moodle answers access_denied when the person signed in to it is no longer the one who opened the activity.
    message = N_("Moodle did not sign you in to the tool: the person signed in to Moodle has changed since the "
                 "activity was opened. Sign in to Moodle again and open the activity from your course.")


class StateMissing(LtiError):
    """The state cookie did not come back: the browser blocked the tool's cookies."""

    code = "state_cookie_missing"
    message = N_("Your browser did not send back the tool's cookie, so the launch cannot be verified.")

    def __init__(self, *, state: str = "", storage_target: str = ""):
        super().__init__()
        self.state = state
        self.storage_target = storage_target


class PlatformDisabled(LtiError):
    status = 403
    code = "platform_disabled"
    message = N_("This Moodle's connection to the tool is switched off by the tool's administrator. Ask them to "
                 "enable it again.")


class PlatformNotFound(LtiError):
    """A registration id that is not one of the academy's own, as another academy's object is everywhere: not
    found, without saying whether it exists."""

    status = 404
    code = "platform_not_found"
    message = N_("This academy has no Moodle connection number %(platform)s.")


class RemovalNotConfirmed(LtiError):
    code = "removal_not_confirmed"
    message = N_("Tick the confirmation: a removed registration cannot be restored; that Moodle would have to "
                 "be registered again.")


class SwitchNotConfirmed(LtiError):
    code = "switch_not_confirmed"
    message = N_("Tick the confirmation: once disabled, nobody can open the tool from that Moodle, you included.")


class PlatformInUse(LtiError):
    status = 409
    code = "platform_in_use"
    message = N_("This registration cannot be removed: %(reason)s. Disable it instead.")


class PlatformKeysUnavailable(LtiError):
    status = 502
    code = "platform_keys_unavailable"
    message = N_("The platform's public keys could not be fetched: %(reason)s")


class RegistrationError(LtiError):
    code = "registration_failed"
    message = N_("The registration with the platform failed: %(reason)s")


class RegistrationChangedMeanwhile(LtiError):
    status = 409
    code = "registration_changed"
    message = N_("This registration was changed by someone else after you reviewed your edit. Open it again, "
                 "check the current values and make your change once more.")


class NotToolOperator(LtiError):
    status = 403
    code = "not_tool_operator"
    message = N_("Only a tool operator, named by the server's operator with 'ibm-lms operator add', replaces the "
                 "tool's signing key: every academy's Moodle trusts it.")


class RotationNotConfirmed(LtiError):
    code = "rotation_not_confirmed"
    message = N_("Tick the confirmation to replace the signing key.")


class UnknownInvitation(LtiError):
    status = 404
    code = "unknown_invitation"
    message = N_("This academy has no registration invitation number %(invitation)s.")


class RegistrationNotInvited(LtiError):
    status = 403
    code = "registration_not_invited"
    message = N_(
        "This registration link is not valid or was already used. Ask the tool's administrator for a new invitation."
    )


class InvalidPlatformSettings(LtiError):
    code = "invalid_platform"
    message = N_("The platform settings are invalid: %(reason)s")


class ToolKeyUnreadable(LtiError):
    status = 500
    code = "tool_key_unreadable"
    message = N_("The tool's signing key cannot be decrypted with the configured secret key.")


class DeepLinkingError(LtiError):
    code = "deep_linking"


class RosterUnavailable(LtiError):
    status = 502
    code = "roster_unavailable"
    message = N_("The platform's list of members could not be read. Open the tool again from the Moodle course, "
                 "or ask the administrator to enable Names and Role Provisioning.")


class RosterNotOffered(LtiError):
    status = 409
    code = "roster_not_offered"
    message = N_("Moodle does not share this course's members with the tool. An administrator enables it under "
                 "the tool's settings: IMS LTI Names and Role Provisioning.")

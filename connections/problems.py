"""What each Salesforce failure means for a customer: the connection status it leads to, and
the cause and the fix in plain words. Pure data; the services write it onto the connection and
the pages show it.

The wording follows what customers are told in the Salesforce requirements document: reconnect
for token problems, check the user's permissions for access problems, and use a dedicated
integration user.
"""

from __future__ import annotations

from dataclasses import dataclass

from connections.salesforce.exceptions import (
    SalesforceAuthError,
    SalesforceBudgetExceeded,
    SalesforceError,
    SalesforceInstanceNotAllowed,
    SalesforcePermissionError,
    SalesforceRateLimited,
)

NEEDS_REAUTH = "needs_reauth"
ERROR = "error"

RECONNECT_WITH_INTEGRATION_USER = (
    "Reconnect. To keep it from happening again, connect with a dedicated integration user "
    "that is not used to connect other tools."
)
CHECK_AGAIN = "then click “Check again” on this page."


@dataclass(frozen=True)
class Problem:
    """A failure as the customer sees it."""

    status: str
    reason: str
    cause: str
    fix: str


# reason -> (status, cause, fix). "{user}" is the connected Salesforce username.
PROBLEMS: dict[str, tuple[str, str, str]] = {
    "token_revoked": (
        NEEDS_REAUTH,
        "Salesforce no longer accepts this connection's authorization: the token expired or "
        "was revoked. That happens when an admin revokes it, when a password or security policy "
        "changes, or when the same Salesforce user approves primer a sixth time (Salesforce "
        "keeps five approvals per user and silently revokes the oldest).",
        RECONNECT_WITH_INTEGRATION_USER,
    ),
    "inactive_user": (
        NEEDS_REAUTH,
        "The Salesforce user this connection signs in as ({user}) is inactive.",
        "Ask your Salesforce admin to reactivate the user, or reconnect with an active user, "
        "ideally a dedicated integration user.",
    ),
    "authentication_failure": (
        NEEDS_REAUTH,
        "Salesforce refused the connection's sign-in (authentication failure), for example "
        "after a password change or because the user was frozen.",
        "Reconnect. If it fails again, look at the user's Login History in Salesforce Setup.",
    ),
    "high_assurance": (
        NEEDS_REAUTH,
        "Salesforce requires a High Assurance session for {user}, and API sessions never are, "
        "so Salesforce refuses every data request.",
        "In Salesforce Setup, on the user's profile (Session Settings) or the connected app's "
        "session policy, set “Session Security Level Required at Login” to none instead of "
        "High Assurance, then reconnect.",
    ),
    "app_blocked": (
        NEEDS_REAUTH,
        "Your Salesforce admin has blocked the primer connected app (OAUTH_APP_BLOCKED).",
        "Ask your admin to unblock it in Setup → Connected Apps OAuth Usage (Unblock), then "
        "reconnect.",
    ),
    "ip_restricted": (
        NEEDS_REAUTH,
        "Salesforce refused the sign-in from primer's servers because of IP restrictions.",
        "Ask your admin to relax IP restrictions for the connected app or the user's profile "
        "(login IP ranges), then reconnect.",
    ),
    "not_approved": (
        NEEDS_REAUTH,
        "The primer connected app only admits pre-authorized users, and {user} is not one.",
        "Ask your admin to add the user's profile or a permission set to the connected app, "
        "then reconnect.",
    ),
    "expired_code": (
        NEEDS_REAUTH,
        "The Salesforce sign-in took too long or its link was used twice.",
        "Start connecting again.",
    ),
    "session_invalid": (
        NEEDS_REAUTH,
        "Salesforce rejected the connection's session even after renewing it.",
        RECONNECT_WITH_INTEGRATION_USER,
    ),
    "invalid_client": (
        ERROR,
        "Salesforce did not accept primer's connected-app credentials. The problem is on our "
        "side, not in your org.",
        "Nothing to change in Salesforce: our team is alerted. Contact support if it persists.",
    ),
    "api_disabled": (
        ERROR,
        "The connected user ({user}) lacks the “API Enabled” permission, so Salesforce refuses "
        "every API request.",
        "In Salesforce Setup, enable “API Enabled” (Administrative Permissions) on the user's "
        "profile or a permission set, " + CHECK_AGAIN,
    ),
    "org_api_disabled": (
        ERROR,
        "Your Salesforce edition does not include API access.",
        "API access comes with Enterprise, Unlimited, Performance and Developer editions, or "
        "as an add-on to Professional Edition: ask your Salesforce account executive.",
    ),
    "missing_permission": (
        ERROR,
        "The connected user ({user}) lacks “View Setup and Configuration”, which Salesforce "
        "requires for the describe and limits calls primer makes.",
        "Enable “View Setup and Configuration” under Administrative Permissions on the user's "
        "profile or a permission set, " + CHECK_AGAIN,
    ),
    "insufficient_access": (
        ERROR,
        "Salesforce refused a request for lack of access.",
        "Give the connected user Read access to Lead, Contact, Account, Opportunity, Campaign "
        "and CampaignMember, " + CHECK_AGAIN,
    ),
    "objects_unreadable": (
        ERROR,
        "The connected user cannot read objects primer needs.",
        "Give the user Read access to them (profile or permission set → Object Settings), "
        + CHECK_AGAIN,
    ),
    "instance_not_allowed": (
        ERROR,
        "Salesforce pointed us at a host this installation does not trust, so nothing was sent "
        "there.",
        "Contact support: the allowed Salesforce hosts may need updating.",
    ),
    "api_budget": (
        ERROR,
        "This connection has used the share of the org's daily API calls you allowed it, so "
        "primer makes no more calls for now.",
        "Nothing to do: syncing resumes by itself as the last 24 hours' calls age out. To "
        "resume sooner, raise the API budget in Settings.",
    ),
    "org_usage_ceiling": (
        ERROR,
        "Your Salesforce org as a whole has used most of its daily API calls, past the ceiling "
        "you set for primer, so primer makes no more calls for now.",
        "Nothing to do: syncing resumes by itself when the org's usage drops. If your other "
        "tools can spare calls, raise the ceiling in Settings.",
    ),
    "daily_limit": (
        ERROR,
        "Salesforce refuses further API calls today: the org's daily allocation is spent.",
        "Nothing to do: syncing resumes by itself when Salesforce allows calls again.",
    ),
    "unexpected": (
        ERROR,
        "Salesforce answered with an error we did not expect.",
        "Click “Check again” in a few minutes; contact support if it persists.",
    ),
}


def problem_for_reason(reason: str, *, user: str = "", detail: str = "") -> Problem:
    """The problem for a reason code, with the username filled in and ``detail`` appended."""
    status, cause, fix = PROBLEMS.get(reason, PROBLEMS["unexpected"])
    cause = cause.format(user=user or "the connected user")
    if detail:
        cause = f"{cause} ({detail})"
    return Problem(
        status=status, reason=reason if reason in PROBLEMS else "unexpected", cause=cause, fix=fix
    )


def problem_for(error: SalesforceError, *, user: str = "") -> Problem:
    """The problem a Salesforce error stands for."""
    if isinstance(error, SalesforceAuthError):
        return problem_for_reason(error.reason, user=user)
    if isinstance(error, SalesforcePermissionError):
        detail = "" if error.reason != "insufficient_access" else error.message
        return problem_for_reason(error.reason, user=user, detail=detail)
    if isinstance(error, SalesforceInstanceNotAllowed):
        return problem_for_reason("instance_not_allowed", detail=_grant_outcome(error))
    if isinstance(error, SalesforceBudgetExceeded):
        reason = "org_usage_ceiling" if error.error_code == "ORG_USAGE_CEILING" else "api_budget"
        status, cause, fix = PROBLEMS[reason]
        return Problem(status, reason, f"{cause} {error.message}", fix)
    if isinstance(error, SalesforceRateLimited):
        return problem_for_reason("daily_limit")
    return problem_for_reason("unexpected", detail=error.message)


def _grant_outcome(error: SalesforceInstanceNotAllowed) -> str:
    if error.grant_revoked is None:
        return ""
    if error.grant_revoked:
        return "the authorization Salesforce had just issued was revoked at once"
    return (
        "revoking the authorization Salesforce had just issued failed: remove it in Salesforce "
        "under Setup → Connected Apps OAuth Usage"
    )

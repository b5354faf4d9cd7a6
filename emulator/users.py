"""The emulated users: each one a realistic situation a connector meets in the field.

All have the password `emulator`. They are the first User records of every profile; generated
sales reps (record owners) follow them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

PASSWORD = "emulator"


@dataclass
class EmulatedUser:
    """One login and what its profile allows."""

    username: str
    first_name: str
    last_name: str
    situation: str
    active: bool = True
    api_enabled: bool = True
    view_setup: bool = True
    high_assurance: bool = False
    unreadable: frozenset[str] = frozenset()
    hidden_fields: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


FLS_HIDDEN = {
    "Account": frozenset(
        {"AnnualRevenue", "Location__c", "Location__Latitude__s", "Location__Longitude__s"}
    ),
    "Contact": frozenset({"Birthdate", "MobilePhone", "Lead_Score__c"}),
    "Lead": frozenset({"AnnualRevenue", "MobilePhone", "Lead_Score__c"}),
    "Opportunity": frozenset({"ExpectedRevenue", "Discount_Percent__c"}),
}

USERS: tuple[EmulatedUser, ...] = (
    EmulatedUser("integration@example.com", "Iris", "Integration", "healthy integration user"),
    EmulatedUser(
        "inactive@example.com",
        "Ian",
        "Inactive",
        "deactivated: token grants and refresh fail invalid_grant / inactive user",
        active=False,
    ),
    EmulatedUser(
        "noapi@example.com",
        "Nora",
        "NoApi",
        "no API Enabled: OAuth works, data calls get 403 API_CURRENTLY_DISABLED",
        api_enabled=False,
    ),
    EmulatedUser(
        "nosetup@example.com",
        "Ned",
        "NoSetup",
        "no View Setup and Configuration: /limits refused",
        view_setup=False,
    ),
    EmulatedUser(
        "nocampaign@example.com",
        "Nina",
        "NoCampaign",
        "no read on Campaign (so none on CampaignMember either)",
        unreadable=frozenset({"Campaign"}),
    ),
    EmulatedUser(
        "fls@example.com",
        "Fiona",
        "FieldSecurity",
        "field-level security hides some fields",
        hidden_fields=FLS_HIDDEN,
    ),
    EmulatedUser(
        "highassurance@example.com",
        "Hugo",
        "HighAssurance",
        "high-assurance session required: tokens issued, data calls get 401",
        high_assurance=True,
    ),
    EmulatedUser("admin@example.com", "Ada", "Admin", "healthy system administrator"),
)
USERS_BY_NAME = {u.username: u for u in USERS}
INTEGRATION_INDEX = 0
ADMIN_INDEX = len(USERS) - 1
FIRST_REP_INDEX = len(USERS)


def user_index(username: str) -> int:
    """Record index of an emulated user."""
    for i, u in enumerate(USERS):
        if u.username == username:
            return i
    raise KeyError(username)


def users_for_org(org_index: int) -> tuple[EmulatedUser, ...]:
    """The emulated users of the org at ``org_index`` (0-based) of a multi-org emulator.

    Salesforce usernames are unique across all orgs, and the username is what tells the login
    host which org to sign in to. The first org keeps ``@example.com``; org k (k >= 2) has the
    same users at ``@orgk.example.com``.
    """
    if org_index == 0:
        return USERS
    domain = f"@org{org_index + 1}.example.com"
    return tuple(replace(u, username=u.username.replace("@example.com", domain)) for u in USERS)

"""A fake Salesforce client for service tests: canned answers, no HTTP."""

from __future__ import annotations

import copy

from connections.salesforce.exceptions import SalesforceError
from tests.connections.conftest import payload

SIX = ("Lead", "Contact", "Account", "Opportunity", "Campaign", "CampaignMember")


class FakeClient:
    """Answers like a healthy org; set ``fail[method] = exception`` or adjust the data."""

    def __init__(self) -> None:
        self.permissions = {"PermissionsApiEnabled": True, "PermissionsViewSetup": True}
        self.unreadable: set[str] = set()
        self.limits_body = payload("limits.json")
        self.fail: dict[str, SalesforceError] = {}
        self.calls: list[str] = []
        # Fields the org has but field-level security hides from the user: {object: {name: label}}
        self.hidden: dict[str, dict[str, str]] = {}

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail:
            raise self.fail[name]

    def user_permissions(self) -> dict:
        self._call("user_permissions")
        return dict(self.permissions)

    def describe_global(self) -> dict:
        self._call("describe_global")
        body = payload("describe_global.json")
        body["sobjects"] = [o for o in body["sobjects"] if o["name"] not in self.unreadable]
        return body

    def describe(self, sobject: str) -> dict:
        self._call("describe")
        body = copy.deepcopy(payload("describe_account.json"))
        body["name"] = sobject
        if sobject != "Account":
            body["fields"] = [f for f in body["fields"] if not f.get("custom")]
        return body

    def field_definitions(self, sobject: str) -> list[dict]:
        self._call("field_definitions")
        described = self.describe(sobject)["fields"]
        self.calls.pop()  # the describe above is not a call of its own
        fields = [{"name": f["name"], "label": f["label"]} for f in described]
        return fields + [
            {"name": n, "label": lbl} for n, lbl in self.hidden.get(sobject, {}).items()
        ]

    def limits(self) -> dict:
        self._call("limits")
        return self.limits_body

"""Describe and describe-global bodies, generated from the object definitions.

Key sets follow the recorded payloads: the sObject describe has the v59 top-level keys (Lead and
Opportunity recordings), each field the 57 keys of `describe_field`, describe-global entries the
keys of the recorded global describe.
Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm
"""

from __future__ import annotations

from emulator.schema.fields import describe_field
from emulator.schema.objects import ObjectDef

MASTER_RECORD_TYPE = "012000000000000AAA"


def sobject_urls(obj: ObjectDef, version: str, base_url: str) -> dict:
    """The `urls` block of a describe (global entries leave out the ui* links)."""
    root = f"/services/data/v{version}/sobjects/{obj.name}"
    return {
        "compactLayouts": f"{root}/describe/compactLayouts",
        "rowTemplate": f"{root}/{{ID}}",
        "approvalLayouts": f"{root}/describe/approvalLayouts",
        "uiDetailTemplate": f"{base_url}/{{ID}}",
        "uiEditTemplate": f"{base_url}/{{ID}}/e",
        "defaultValues": f"{root}/defaultValues?recordTypeId&fields",
        "listviews": f"{root}/listviews",
        "describe": f"{root}/describe",
        "uiNewRecord": f"{base_url}/{obj.key_prefix}/e",
        "quickActions": f"{root}/quickActions",
        "layouts": f"{root}/describe/layouts",
        "sobject": root,
        "namedLayouts": f"{root}/describe/namedLayouts/{{LayoutName}}",
        "passwordUtilities": f"{root}/{{ID}}/password",
    }


def _object_flags(obj: ObjectDef) -> dict:
    return {
        "activateable": False,
        "associateEntityType": None,
        "associateParentEntity": None,
        "createable": obj.createable,
        "custom": obj.name.endswith("__c"),
        "customSetting": False,
        "deepCloneable": obj.deep_cloneable,
        "deletable": obj.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": obj.feed_enabled,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "layoutable": obj.layoutable,
        "mergeable": obj.mergeable,
        "mruEnabled": obj.layoutable if obj.mru_enabled is None else obj.mru_enabled,
        "name": obj.name,
        "queryable": obj.queryable,
        "replicateable": obj.replicateable,
        "retrieveable": obj.queryable if obj.retrieveable is None else obj.retrieveable,
        "searchable": obj.searchable,
        "triggerable": obj.triggerable,
        "undeletable": obj.undeletable,
        "updateable": obj.updateable,
    }


GLOBAL_URL_KEYS = (
    "compactLayouts",
    "rowTemplate",
    "approvalLayouts",
    "listviews",
    "describe",
    "quickActions",
    "layouts",
    "sobject",
)


def _url_keys(obj: ObjectDef) -> tuple[str, ...]:
    return GLOBAL_URL_KEYS if obj.url_keys is None else obj.url_keys


def global_entry(obj: ObjectDef, version: str) -> dict:
    """One entry of the describe-global `sobjects` list."""
    body = _object_flags(obj)
    urls = sobject_urls(obj, version, "")
    body["urls"] = {k: urls[k] for k in _url_keys(obj)}
    return body


def describe_global(objects: list[ObjectDef], version: str) -> dict:
    """GET /sobjects."""
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [global_entry(o, version) for o in objects],
    }


def child_relationships(obj: ObjectDef, catalog: dict[str, ObjectDef]) -> list[dict]:
    """Relationships from the other objects' reference fields that point at obj."""
    out = []
    for other in sorted(catalog.values(), key=lambda o: o.name):
        for f in other.fields:
            if f.type != "reference" or f.ref != obj.name:
                continue
            rel = _child_relationship_name(other, f)
            out.append(
                {
                    "cascadeDelete": other.name in ("CampaignMember", "Opportunity", "AccountFeed")
                    and f.name in ("CampaignId", "LeadId", "ContactId", "ParentId"),
                    "childSObject": other.name,
                    "deprecatedAndHidden": False,
                    "field": f.name,
                    "junctionIdListNames": [],
                    "junctionReferenceTo": [],
                    "relationshipName": rel,
                    "restrictedDelete": False,
                }
            )
    return out


def _child_relationship_name(child: ObjectDef, f) -> str | None:
    if f.name in ("CreatedById", "LastModifiedById") or f.name.startswith("Converted"):
        return None
    if f.name == "ParentId" and child.name in ("Account", "Campaign"):
        return "Child" + child.label_plural.replace(" ", "")
    if f.name == "MasterRecordId":
        return None
    return child.label_plural.replace(" ", "")


def describe_sobject(
    obj: ObjectDef,
    fields: list,
    catalog: dict[str, ObjectDef],
    version: str,
    base_url: str,
) -> dict:
    """GET /sobjects/{Object}/describe for the given visible fields."""
    flags = _object_flags(obj)
    root = f"/services/data/v{version}/sobjects/{obj.name}"
    every = sobject_urls(obj, version, base_url)
    ui = ("uiDetailTemplate", "uiEditTemplate", "uiNewRecord")
    # A describe's urls are the global entry's plus the ui links (only the global describe was
    # recorded for the objects that list fewer).
    keys = {*GLOBAL_URL_KEYS, *_url_keys(obj), *ui}
    if obj.name == "Account":
        keys.add("defaultValues")
    urls = {k: v for k, v in every.items() if k in keys}
    body = {
        "actionOverrides": [],
        **{k: flags[k] for k in ("activateable", "associateEntityType", "associateParentEntity")},
        "childRelationships": child_relationships(obj, catalog),
        "compactLayoutable": obj.layoutable,
        **{k: flags[k] for k in ("createable", "custom", "customSetting", "deepCloneable")},
        "defaultImplementation": None,
        **{k: flags[k] for k in ("deletable", "deprecatedAndHidden")},
        "extendedBy": None,
        "extendsInterfaces": None,
        "feedEnabled": obj.feed_enabled,
        "fields": [describe_field(f) for f in fields],
        "hasSubtypes": False,
        "implementedBy": None,
        "implementsInterfaces": None,
        "isInterface": False,
        "isSubtype": False,
        **{k: flags[k] for k in ("keyPrefix", "label", "labelPlural", "layoutable")},
        "listviewable": None,
        "lookupLayoutable": None,
        **{k: flags[k] for k in ("mergeable", "mruEnabled", "name")},
        "namedLayoutInfos": [],
        "networkScopeFieldName": None,
        "queryable": obj.queryable,
        "recordTypeInfos": [
            {
                "active": True,
                "available": True,
                "defaultRecordTypeMapping": True,
                "developerName": "Master",
                "master": True,
                "name": "Master",
                "recordTypeId": MASTER_RECORD_TYPE,
                "urls": {"layout": f"{root}/describe/layouts/{MASTER_RECORD_TYPE}"},
            }
        ],
        **{k: flags[k] for k in ("replicateable", "retrieveable")},
        "searchLayoutable": obj.searchable,
        "searchable": obj.searchable,
        "sobjectDescribeOption": obj.extra.get("sobjectDescribeOption", "FULL"),
        "supportedScopes": [{"label": label, "name": name} for name, label in obj.scopes],
        **{k: flags[k] for k in ("triggerable", "undeletable", "updateable")},
        "urls": urls,
    }
    return body

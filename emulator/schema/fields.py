"""Compact field definitions, expanded into the full describe field object.

A `FieldDef` names only what differs from the defaults of its type. `describe_field` turns it into
the 57-key field object of the REST describe (key set as in the recorded describes of Account,
Lead and Opportunity). The per-type defaults below were read off those recordings: e.g. booleans
are never nillable and default to false, currency/double/percent are not groupable, long text
areas are neither filterable nor sortable, compound fields are read-only and only `filterable`
(for DISTANCE) with `queryByDistance`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "string": "xsd:string",
    "picklist": "xsd:string",
    "multipicklist": "xsd:string",
    "combobox": "xsd:string",
    "textarea": "xsd:string",
    "phone": "xsd:string",
    "url": "xsd:string",
    "email": "xsd:string",
    "encryptedstring": "xsd:string",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "time": "xsd:time",
    "base64": "xsd:base64Binary",
    "address": "urn:address",
    "location": "urn:location",
}
TEXT_TYPES = {
    "string",
    "picklist",
    "multipicklist",
    "combobox",
    "textarea",
    "phone",
    "url",
    "email",
    "encryptedstring",
}
NUMBER_TYPES = {"int", "double", "currency", "percent"}
COMPOUND_TYPES = {"address", "location"}
DEFAULT_LENGTH = {
    "string": 255,
    "picklist": 255,
    "multipicklist": 4099,
    "combobox": 255,
    "textarea": 255,
    "phone": 40,
    "url": 255,
    "email": 80,
    "id": 18,
    "reference": 18,
}
SYSTEM_FIELDS = {
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
    "LastActivityDate",
    "LastViewedDate",
    "LastReferencedDate",
    "MasterRecordId",
}
DEFAULTED_SYSTEM = {
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
    "OwnerId",
}


@dataclass
class FieldDef:
    """One field of an sObject, as the emulator models it.

    `type` is the describe type; `ref` the referenced object for references; `rel` the
    relationship name; `values` picklist values (the first entry may be marked default with
    `default_value`); `compound` the compound field this one is a component of; `formula` marks a
    calculated field. `overrides` replaces any computed describe key.
    """

    name: str
    type: str
    label: str | None = None
    length: int | None = None
    ref: str | None = None
    rel: str | None = None
    values: tuple[str, ...] = ()
    default_value: str | None = None
    compound: str | None = None
    formula: str | None = None
    nillable: bool | None = None
    createable: bool | None = None
    updateable: bool | None = None
    precision: int | None = None
    scale: int | None = None
    digits: int | None = None
    overrides: dict = field(default_factory=dict)

    @property
    def custom(self) -> bool:
        return self.name.endswith(("__c", "__s", "__pc"))

    @property
    def is_compound(self) -> bool:
        return self.type in COMPOUND_TYPES

    @property
    def is_long_text(self) -> bool:
        return self.type == "textarea" and (self.length or 255) > 255

    @property
    def calculated(self) -> bool:
        return self.formula is not None


def _label_from_name(name: str) -> str:
    base = re.sub(r"__[cs]$", "", name).replace("__", " ").replace("_", " ")
    if base.endswith("Id") and len(base) > 2:
        base = base[:-2] + " ID"
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", base).strip()


def _bool_defaults(f: FieldDef, system: bool) -> dict:
    t = f.type
    long_text = f.is_long_text
    compound = f.is_compound
    numeric_float = t in ("double", "currency", "percent")
    return {
        "aggregatable": not (t == "boolean" or long_text or compound or t == "base64"),
        "filterable": not (long_text or t == "base64"),
        "groupable": not (numeric_float or t == "datetime" or long_text or compound)
        and t not in ("multipicklist", "base64"),
        "sortable": not (long_text or compound) and t not in ("multipicklist", "base64"),
        "idLookup": t == "id",
        "queryByDistance": compound,
        "defaultedOnCreate": t == "boolean" or f.name in DEFAULTED_SYSTEM,
        "system": system,
    }


def describe_field(f: FieldDef) -> dict:
    """The describe field object (all 57 keys) for a FieldDef."""
    t = f.type
    system = f.name in SYSTEM_FIELDS or t == "id"
    flags = _bool_defaults(f, system)
    read_only = system or f.is_compound or f.calculated
    createable = f.createable if f.createable is not None else not read_only
    updateable = f.updateable if f.updateable is not None else not read_only
    if f.nillable is not None:
        nillable = f.nillable
    else:
        nillable = not (t in ("id", "boolean") or f.name in DEFAULTED_SYSTEM - {"OwnerId"})
    length = f.length if f.length is not None else DEFAULT_LENGTH.get(t, 0)
    precision = (
        f.precision if f.precision is not None else (18 if t in ("double", "currency") else 0)
    )
    if t == "percent" and f.precision is None:
        precision = 3
    scale = f.scale if f.scale is not None else (2 if t == "currency" else 0)
    digits = f.digits if f.digits is not None else (9 if t == "int" else 0)
    extra = None
    if t == "textarea":
        extra = "plaintextarea"
    picklist = [
        {
            "active": True,
            "defaultValue": v == f.default_value,
            "label": v,
            "validFor": None,
            "value": v,
        }
        for v in f.values
    ]
    body = {
        "aggregatable": flags["aggregatable"],
        "aiPredictionField": False,
        "autoNumber": False,
        "byteLength": length * 3 if t in TEXT_TYPES else (18 if t in ("id", "reference") else 0),
        "calculated": f.calculated,
        "calculatedFormula": f.formula,
        "cascadeDelete": False,
        "caseSensitive": False,
        "compoundFieldName": f.compound,
        "controllerName": None,
        "createable": createable,
        "custom": f.custom,
        "defaultValue": False if t == "boolean" else f.default_value,
        "defaultValueFormula": None,
        "defaultedOnCreate": flags["defaultedOnCreate"] or f.default_value is not None,
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": digits,
        "displayLocationInDecimal": t == "location",
        "encrypted": False,
        "externalId": False,
        "extraTypeInfo": extra,
        "filterable": flags["filterable"],
        "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": flags["groupable"],
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": flags["idLookup"],
        "inlineHelpText": None,
        "label": f.label or _label_from_name(f.name),
        "length": length if (t in TEXT_TYPES or t in ("id", "reference")) else 0,
        "mask": None,
        "maskType": None,
        "name": f.name,
        "nameField": False,
        "namePointing": False,
        "nillable": nillable,
        "permissionable": nillable and not system and (createable or updateable or f.calculated),
        "picklistValues": picklist,
        "polymorphicForeignKey": False,
        "precision": precision,
        "queryByDistance": flags["queryByDistance"],
        "referenceTargetField": None,
        "referenceTo": [f.ref] if f.ref else [],
        "relationshipName": f.rel,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": False,
        "scale": scale,
        "searchPrefilterable": False,
        "soapType": SOAP_TYPES[t],
        "sortable": flags["sortable"],
        "type": t,
        "unique": False,
        "updateable": updateable,
        "writeRequiresMasterRead": False,
    }
    if f.is_compound or f.calculated:
        body["permissionable"] = True
    body.update(f.overrides)
    return body

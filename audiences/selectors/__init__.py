"""Reads of the audiences app. ``compiler`` turns criteria into querysets (the filter compiler);
``members`` summarises, previews and exports members; ``lists`` reads CSV lists."""

from audiences.selectors.compiler import (
    AudienceSpec,
    Estimate,
    Gate,
    TreeCompiler,
    audience_criteria_check,
    audience_records,
    audience_size_estimate,
    audience_spec,
    connection_fields,
    connection_gate,
    criteria_records,
    records_of,
)

__all__ = [
    "AudienceSpec",
    "Estimate",
    "Gate",
    "TreeCompiler",
    "audience_criteria_check",
    "audience_records",
    "audience_size_estimate",
    "audience_spec",
    "connection_fields",
    "connection_gate",
    "criteria_records",
    "records_of",
]

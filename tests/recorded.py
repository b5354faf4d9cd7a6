"""Real recorded Salesforce responses, read from the `shared/reference/fixtures` folder beside
the project root (never copied into the project: see that folder's README for where each one
was recorded). Tests that use them run wherever the folder is present (CI and development
machines) and are skipped, saying so, where it is not. `PRIMER_SF_REFERENCE_FIXTURES` points
elsewhere (a git worktree whose parent has no `shared` folder).

`shape` / `value_format` reduce payloads to what the comparison with the emulator is about:
the keys, and the format of each value (not the value itself).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(
    os.environ.get("PRIMER_SF_REFERENCE_FIXTURES")
    or PROJECT_ROOT.parent / "shared" / "reference" / "fixtures"
)
needs_recordings = pytest.mark.skipif(
    not FIXTURES.is_dir(),
    reason=f"the recorded Salesforce responses are not here ({FIXTURES} is absent)",
)


def recorded(name: str):
    """A recorded JSON body (parsed), or the text of any other recording."""
    path = FIXTURES / name
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else text


FORMATS = (
    ("datetime", re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000")),
    ("date", re.compile(r"\d{4}-\d\d-\d\d")),
    ("api_path", re.compile(r"/services/data/v\d+\.\d/\S*")),
    ("https_url", re.compile(r"https://\S+")),
    ("id18", re.compile(r"(?=\w*\d)[0-9a-zA-Z]{18}")),
    ("digits", re.compile(r"\d+")),
)


def value_format(value) -> str:
    """The format of one JSON value: its type, and for strings the pattern they follow."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    for name, pattern in FORMATS:
        if pattern.fullmatch(value):
            return name
    return "text"


def format_differences(real: dict, ours: dict, *, where: str = "") -> list[str]:
    """Keys one side has and the other lacks, and keys whose non-null values differ in format."""
    out = [f"{where}{k}: missing from ours" for k in real.keys() - ours.keys()]
    out += [f"{where}{k}: not in the recording" for k in ours.keys() - real.keys()]
    for key in real.keys() & ours.keys():
        a, b = real[key], ours[key]
        if a is None or b is None:
            continue
        if value_format(a) != value_format(b):
            out.append(f"{where}{key}: {value_format(a)} ({a!r:.60}) vs ours {value_format(b)}")
    return out

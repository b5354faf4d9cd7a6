"""SOQL errors in Salesforce's caret format.

Recorded example (INVALID_TYPE, CumulusCI cassette), newlines written as |:
`|select count() from XYZZY|<20 spaces>^|ERROR at Row:1:Column:21|sObject type 'XYZZY' is not…`
— the query line, a caret under the 1-based column (column - 1 spaces), the row/column line,
then the message. Salesforce shortens very long lines to a window around the error; the
emulator always echoes the whole line of the error (a simplification).
"""

from __future__ import annotations

NO_SUCH_COLUMN = (
    "No such column '{field}' on entity '{entity}'. If you are attempting to use a custom field,"
    " be sure to append the '__c' after the custom field name. Please reference your WSDL or the"
    " describe call for the appropriate names."
)
NO_SUCH_TYPE = (
    "sObject type '{entity}' is not supported. If you are attempting to use a custom object, be"
    " sure to append the '__c' after the entity name. Please reference your WSDL or the describe"
    " call for the appropriate names."
)
NO_SUCH_RELATIONSHIP = (
    "Didn't understand relationship '{rel}' in field path. If you are attempting to use a custom"
    " relationship, be sure to append the '__r' after the custom relationship name. Please"
    " reference your WSDL or the describe call for the appropriate names."
)


class SoqlError(Exception):
    """A query Salesforce would refuse: errorCode plus the (caret-formatted) message."""

    def __init__(self, error_code: str, message: str):
        super().__init__(message)
        self.error_code = error_code
        self.message = message


def caret(query: str, line: int, column: int, text: str) -> str:
    """The multi-line caret message for an error at (line, column), both 1-based."""
    lines = query.split("\n")
    row = lines[line - 1] if 0 < line <= len(lines) else query
    return f"\n{row}\n{' ' * (column - 1)}^\nERROR at Row:{line}:Column:{column}\n{text}"


def at(query: str, pos, code: str, text: str) -> SoqlError:
    return SoqlError(code, caret(query, pos.line, pos.column, text))

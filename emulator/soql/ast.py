"""The parsed form of a SOQL query. Every node keeps its source position for caret errors."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Pos:
    line: int
    column: int


@dataclass
class FieldRef:
    path: list[str]
    pos: Pos

    @property
    def text(self) -> str:
        return ".".join(self.path)


@dataclass
class CountExpr:
    field: FieldRef | None
    alias: str | None
    pos: Pos


@dataclass
class Literal:
    kind: str  # string, number, datetime, date, boolean, null, date_literal
    value: object
    text: str
    pos: Pos


@dataclass
class Compare:
    field: FieldRef
    op: str
    value: Literal


@dataclass
class InList:
    field: FieldRef
    values: list[Literal]
    negate: bool


@dataclass
class Like:
    field: FieldRef
    pattern: Literal


@dataclass
class Includes:
    field: FieldRef
    values: list[Literal]
    exclude: bool


@dataclass
class And:
    items: list


@dataclass
class Or:
    items: list


@dataclass
class Not:
    item: object


@dataclass
class OrderItem:
    field: FieldRef
    desc: bool = False
    nulls_last: bool | None = None


@dataclass
class Query:
    text: str
    select: list
    sobject: str
    sobject_pos: Pos
    where: object | None = None
    order: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None

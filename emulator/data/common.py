"""Building blocks shared by the object generators: companies, people, places, phones."""

from __future__ import annotations

import random
import re

from emulator.clock import FORMATS
from emulator.data import vocab
from emulator.data.columns import Func, Pool, TupleGroup, weighted, with_nulls

DAY = 86400
_N_PREFIX = len(vocab.COMPANY_PREFIX)
_N_CORE = len(vocab.COMPANY_CORE)
_N_SUFFIX = len(vocab.COMPANY_SUFFIX)
_N_TLD = len(vocab.TLDS)
_COMPANY_SPACE = _N_PREFIX * _N_CORE * _N_SUFFIX


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


FIRST_SLUGS = [slug(n) for n in vocab.FIRST_NAMES]
LAST_SLUGS = [slug(n) for n in vocab.LAST_NAMES]
_PREFIX_SLUGS = [slug(p) for p in vocab.COMPANY_PREFIX]
_CORE_SLUGS = [slug(c) for c in vocab.COMPANY_CORE]
_TLD_SUFFIXES = ["." + t for t in vocab.TLDS]


_COMPANY_NAMES: list[str] = []
_DOMAIN_STEMS: list[str] = []


def _company_tables() -> None:
    for a, prefix in enumerate(vocab.COMPANY_PREFIX):
        for b, core in enumerate(vocab.COMPANY_CORE):
            _DOMAIN_STEMS.append(_PREFIX_SLUGS[a] + _CORE_SLUGS[b])
            for suffix in vocab.COMPANY_SUFFIX:
                _COMPANY_NAMES.append(f"{prefix} {core} {suffix}" if suffix else f"{prefix} {core}")


def company(k: int) -> tuple[str, str]:
    """(name, domain) of company number k; numbers map to names through a fixed scramble."""
    if not _COMPANY_NAMES:
        _company_tables()
    m = (k * 2654435761 + 97) % _COMPANY_SPACE
    tld = _TLD_SUFFIXES[(k // 7) % _N_TLD]
    wrap = k // _COMPANY_SPACE
    if wrap:
        return f"{_COMPANY_NAMES[m]} ({wrap + 1})", f"{_DOMAIN_STEMS[m // _N_SUFFIX]}{wrap}{tld}"
    return _COMPANY_NAMES[m], _DOMAIN_STEMS[m // _N_SUFFIX] + tld


def companies(ks) -> list[tuple[str, str] | None]:
    """company(k) for each k (None stays None), computing each distinct k once."""
    seen: dict = {None: None}
    out = []
    for k in ks:
        row = seen.get(k)
        if row is None and k is not None:
            row = seen[k] = company(k)
        out.append(row)
    return out


def address_group(seed: int, key: str, size: int = 4000, null_pct: int = 0) -> TupleGroup:
    """Addresses: (street, city, state, postal code, country, latitude, longitude, accuracy)."""
    return TupleGroup(key, lambda: _address_rows(seed, key, size, null_pct))


def _address_rows(seed: int, key: str, size: int, null_pct: int) -> list[tuple]:
    rng = random.Random(f"{seed}/address/{key}")
    rows: list[tuple] = []
    for _ in range(size):
        city, state, country, pattern, lat, lon = rng.choice(vocab.CITIES)
        number = rng.randrange(1, 9800)
        street = f"{number} {rng.choice(vocab.STREETS)}"
        suite = rng.choice(vocab.SUITES)
        if suite:
            street = f"{street}\n{suite}"
        postal = "".join(str(rng.randrange(10)) if ch == "#" else ch for ch in pattern)
        rows.append(
            (
                street,
                city,
                state,
                postal,
                country,
                round(lat + rng.uniform(-0.08, 0.08), 6),
                round(lon + rng.uniform(-0.08, 0.08), 6),
                rng.choice(("Address", "Street", "Zip", "Block")),
            )
        )
    if null_pct:
        nulls = round(size * null_pct / (100 - null_pct))
        rows += [(None,) * 8] * nulls
    return rows


ADDRESS_PARTS = (
    ("Street", "textarea"),
    ("City", "string"),
    ("State", "string"),
    ("PostalCode", "string"),
    ("Country", "string"),
    ("Latitude", "double"),
    ("Longitude", "double"),
    ("GeocodeAccuracy", "picklist"),
)


def add_address(gen, prefix: str, group: TupleGroup) -> None:
    for k, (part, ftype) in enumerate(ADDRESS_PARTS):
        gen.add(f"{prefix}{part}", group.column(ftype, k))


def phone_pool(seed: int, key: str, null_pct: int, size: int = 9973) -> Pool:
    return Pool("phone", key, lambda: with_nulls(_phones(seed, key, size), null_pct))


def _phones(seed: int, key: str, size: int) -> list[str]:
    rng = random.Random(f"{seed}/phone/{key}")
    numbers = []
    for _ in range(size):
        r = rng.random()
        x = int(r * 1e12)
        if r < 0.8:
            numbers.append(
                f"({201 + x % 789}) {200 + (x // 1000) % 799}-{(x // 1000000) % 10000:04d}"
            )
        else:
            country = (44, 49, 33, 61, 81)[x % 5]
            area, a, b = 10 + x // 7 % 89, 1000 + x // 100 % 8999, 1000 + x // 1000000 % 8999
            numbers.append(f"+{country} {area} {a} {b}")
    return numbers


def name_columns(gen) -> None:
    """FirstName, LastName, Salutation and Name (= "First Last") columns."""
    gen.add("FirstName", Pool("string", "first", vocab.FIRST_NAMES))
    gen.add("LastName", Pool("string", "last", vocab.LAST_NAMES))
    gen.add(
        "Salutation",
        Pool("picklist", "salutation", with_nulls(("Mr.", "Ms.", "Mrs.", "Dr.", "Mx."), 40)),
    )
    gen.add(
        "Name",
        Func(
            "string",
            lambda ch: [
                f + " " + last
                for f, last in zip(ch.typed("FirstName"), ch.typed("LastName"), strict=True)
            ],
        ),
    )


def email_locals(ch) -> list[str]:
    """Local parts built from the chunk's first and last names."""
    fs = [FIRST_SLUGS[r] for r in ch.r("first", len(vocab.FIRST_NAMES))]
    ls = [LAST_SLUGS[r] for r in ch.r("last", len(vocab.LAST_NAMES))]
    form = ch.r("email_form", 20)
    out = []
    for f, last, k in zip(fs, ls, form, strict=True):
        if k < 12:
            out.append(f + "." + last)
        elif k < 17:
            out.append(f[0] + last)
        elif k < 19:
            out.append(f + "_" + last)
        else:
            out.append(f)
    return out


def date_pool(key: str, start_day: int, days: int, null_pct: int, size: int = 5003) -> Pool:
    def build():
        rng = random.Random(f"dates/{key}")
        return with_nulls(
            [FORMATS.day(start_day + int(rng.random() * days)) for _ in range(size)], null_pct
        )

    return Pool("date", key, build)


def last_activity(ch, null_pct: int = 55) -> list:
    """A date on or before the record's last modification, or null."""
    mods = ch.typed("SystemModstamp")
    back = ch.r("last_activity", 40)
    nulls = ch.r("last_activity_null", 100)
    day = FORMATS.day
    return [
        None if z < null_pct else day(m // DAY - b)
        for m, b, z in zip(mods, back, nulls, strict=True)
    ]


def money_pool(key: str, lo: int, hi: int, step: int, null_pct: int, size: int = 4001) -> Pool:
    """Round amounts, skewed towards the low end (log-uniform)."""

    def build():
        rng = random.Random(f"money/{key}")
        values = []
        for _ in range(size):
            v = lo * (hi / lo) ** rng.random()
            values.append(float(max(step, round(v / step) * step)))
        return with_nulls(values, null_pct)

    return Pool("currency", key, build)


def photo_url(ch) -> list[str]:
    return ["/services/images/photo/" + i for i in ch.typed("Id")]


def bools(key: str, true_pct: int) -> Pool:
    return Pool("boolean", key, weighted((True, true_pct), (False, 100 - true_pct)))


def multipicklist_pool(key: str, values, null_pct: int, size: int = 997) -> Pool:
    def build():
        rng = random.Random(f"multi/{key}")
        combos = []
        for _ in range(size):
            chosen = sorted(rng.sample(values, rng.randrange(1, 4)), key=values.index)
            combos.append(";".join(chosen))
        return with_nulls(combos, null_pct)

    return Pool("multipicklist", key, build)

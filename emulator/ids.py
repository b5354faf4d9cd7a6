"""Salesforce record Ids: 15-character case-sensitive ids and their 18-character case-safe form.

An Id is a 3-character key prefix, a 2-character instance code, one reserved character and a
9-digit base-62 record number. The 18-character form appends three checksum characters, one per
5-character chunk, each encoding which characters of that chunk are upper-case letters.
Reference: https://help.salesforce.com/s/articleView?id=000385008 (case-safe Ids).

The emulator maps (key prefix, record index) to an Id and back. The base-62 alphabet is in ASCII
order, so string order of the Ids of one object is index order, as a `WHERE Id > ...` chunked
scan expects.
"""

from __future__ import annotations

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_B62_VALUE = {c: n for n, c in enumerate(B62)}
INSTANCE = "8c"  # the emulated pod's two-character instance code
RECORD_BASE = 62**4  # record numbers start here so Ids look like real ones (…0000aB3xY…)
MAX_CACHED_TAILS = 32  # per codec: 32 lists of 3,844 short strings, whatever the number of records


def checksum_suffix(id15: str) -> str:
    """The three case-safe checksum characters of a 15-character Id."""
    out = []
    for chunk in range(3):
        bits = 0
        for pos in range(5):
            c = id15[chunk * 5 + pos]
            if "A" <= c <= "Z":
                bits |= 1 << pos
        out.append(CHECKSUM_ALPHABET[bits])
    return "".join(out)


def to18(sf_id: str) -> str:
    """Return the 18-character form of a 15- or 18-character Id."""
    if len(sf_id) == 18:
        return sf_id[:15] + checksum_suffix(sf_id[:15])
    if len(sf_id) != 15:
        raise ValueError(f"not a Salesforce Id: {sf_id!r}")
    return sf_id + checksum_suffix(sf_id)


def is_valid_id(value: str) -> bool:
    """True when value is a well-formed 15- or 18-character Id (checksum checked for 18)."""
    if not isinstance(value, str) or len(value) not in (15, 18):
        return False
    if any(c not in _B62_VALUE for c in value):
        return False
    return len(value) == 15 or value[15:].upper() == checksum_suffix(value[:15])


def _b62(n: int, width: int) -> str:
    digits = []
    for _ in range(width):
        n, r = divmod(n, 62)
        digits.append(B62[r])
    if n:
        raise ValueError("record number too large")
    return "".join(reversed(digits))


_LOW: list[tuple[str, int]] = []


def _low_table() -> list[tuple[str, int]]:
    """The last two base-62 digits and their checksum bits (positions 3 and 4 of chunk 3)."""
    if not _LOW:
        for r in range(62 * 62):
            digits = _b62(r, 2)
            bits = sum(1 << (3 + k) for k, c in enumerate(digits) if "A" <= c <= "Z")
            _LOW.append((digits, bits))
    return _LOW


class IdCodec:
    """Encodes record indexes of one object (one key prefix) as 18-character Ids, and back.

    Encoding is on the hot path of CSV rendering, so the last five base-62 digits are split
    into a 3-digit high part (cached) and a 2-digit low part (a table of 3,844 entries), each
    with its precomputed checksum bits.
    """

    def __init__(self, prefix: str):
        if len(prefix) != 3:
            raise ValueError(f"bad key prefix {prefix!r}")
        self.prefix = prefix
        self._head_cache: dict[int, tuple[str, int, int]] = {}
        self._lo = _low_table()
        self._tail_cache: dict[tuple[int, int, bool], list[str]] = {}
        self._blocks: dict[int, tuple[str, list[str]]] = {}

    @staticmethod
    def _bits(chars: str, offset: int) -> int:
        return sum(1 << (offset + k) for k, c in enumerate(chars) if "A" <= c <= "Z")

    def _head(self, q: int) -> tuple[str, int, int]:
        """For record number // 3844: (first 13 chars, chunk-2 bits, chunk-3 bits)."""
        hit = self._head_cache.get(q)
        if hit is None:
            digits = _b62(q, 7)  # 9 record digits = 7 high + 2 low
            id13 = self.prefix + INSTANCE + "0" + digits
            c2 = self._bits(id13[5:10], 0)
            c3 = self._bits(id13[10:13], 0)
            hit = (id13, c2, c3)
            self._head_cache[q] = hit
        return hit

    def encode(self, index: int) -> str:
        """18-character Id of the record at index."""
        q, r = divmod(index + RECORD_BASE, 3844)
        id13, c2, c3 = self._head(q)
        lo, lo_bits = self._lo[r]
        first = self._first_chunk_char()
        return id13 + lo + first + CHECKSUM_ALPHABET[c2] + CHECKSUM_ALPHABET[c3 | lo_bits]

    def encode_many(self, indexes) -> list[str]:
        """18-character Ids of many records (None stays None)."""
        out = []
        append = out.append
        blocks = self._blocks
        base = RECORD_BASE
        for index in indexes:
            if index is None:
                append(None)
                continue
            q, r = divmod(index + base, 3844)
            block = blocks.get(q)
            if block is None:
                block = self._block(q)
            append(block[0] + block[1][r])
        return out

    def _block(self, q: int) -> tuple[str, list[str]]:
        id13, c2, c3 = self._head(q)
        block = (id13, self._tails(c2, c3, False))
        if len(self._blocks) >= MAX_CACHED_TAILS:
            self._blocks.clear()  # bounded: memory must not grow with the org's size
        self._blocks[q] = block
        return block

    def encode_range(self, start: int, n: int, quote: bool = False) -> list[str]:
        """Ids of records start … start + n - 1 (optionally as quoted CSV cells), built from
        per-block tails: within one block of 3,844 records only the last two digits and the
        final checksum character change."""
        out: list[str] = []
        index = start
        end = start + n
        while index < end:
            q, r = divmod(index + RECORD_BASE, 3844)
            take = min(end - index, 3844 - r)
            id13, c2, c3 = self._head(q)
            tails = self._tails(c2, c3, quote)
            lead = ('"' + id13) if quote else id13
            out.extend([lead + t for t in tails[r : r + take]])
            index += take
        return out

    def _tails(self, c2: int, c3: int, quote: bool) -> list[str]:
        key = (c2, c3, quote)
        tails = self._tail_cache.get(key)
        if tails is None:
            if len(self._tail_cache) >= MAX_CACHED_TAILS:
                self._tail_cache.pop(next(iter(self._tail_cache)))
            first = self._first_chunk_char()
            end = '"' if quote else ""
            c2ch = CHECKSUM_ALPHABET[c2]
            tails = [
                lo + first + c2ch + CHECKSUM_ALPHABET[c3 | bits] + end for lo, bits in self._lo
            ]
            self._tail_cache[key] = tails
        return tails

    def _first_chunk_char(self) -> str:
        return CHECKSUM_ALPHABET[self._bits((self.prefix + INSTANCE)[:5], 0)]

    def decode(self, sf_id: str) -> int | None:
        """Record index of an Id of this object, or None when it is not one of ours."""
        if not isinstance(sf_id, str) or len(sf_id) not in (15, 18):
            return None
        if sf_id[:6] != self.prefix + INSTANCE + "0":
            return None
        n = 0
        for c in sf_id[6:15]:
            v = _B62_VALUE.get(c)
            if v is None:
                return None
            n = n * 62 + v
        index = n - RECORD_BASE
        return index if index >= 0 else None

    def head(self) -> str:
        """The six characters every Id of this object starts with."""
        return self.prefix + INSTANCE + "0"

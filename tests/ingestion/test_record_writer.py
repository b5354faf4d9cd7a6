"""Writes are idempotent upserts; an older SystemModstamp never overwrites a newer one."""

from django.utils import timezone

from ingestion.engine.records import ParsedRecord, merge_fields, write_records
from ingestion.models import IngestedRecord

ID = "0035g00000ABCDEAAA"


def _write(connection, *records):
    return write_records(
        connection_id=connection.pk,
        sobject="Contact",
        run_id=None,
        records=iter(records),
        now=timezone.now(),
    )


def _rec(stamp: str, name: str, deleted: bool = False) -> ParsedRecord:
    return ParsedRecord(ID, {"Id": ID, "Name": name}, stamp, deleted)


def test_writing_the_same_page_twice_changes_nothing(connection):
    first = _rec("2026-01-01T10:00:00.000Z", "Ada")
    _write(connection, first)
    before = IngestedRecord.objects.get()
    stats = _write(connection, first)
    after = IngestedRecord.objects.get()
    assert IngestedRecord.objects.count() == 1
    assert (after.data, after.system_modstamp, after.first_seen_at) == (
        before.data,
        before.system_modstamp,
        before.first_seen_at,
    )
    assert stats.read == 1


def test_an_older_modstamp_never_overwrites_a_newer_one(connection):
    _write(connection, _rec("2026-01-01T10:00:00.000Z", "Newer"))
    stats = _write(connection, _rec("2026-01-01T09:00:00.000Z", "Older"))
    assert IngestedRecord.objects.get().data["Name"] == "Newer"
    assert stats.written == 0


def test_a_newer_modstamp_replaces_the_record(connection):
    _write(connection, _rec("2026-01-01T09:00:00.000Z", "Old"))
    _write(connection, _rec("2026-01-01T10:00:00.000Z", "New"))
    assert IngestedRecord.objects.get().data["Name"] == "New"


def test_the_newest_duplicate_within_a_page_wins(connection):
    _write(
        connection,
        _rec("2026-01-01T10:00:00.000Z", "Newest"),
        _rec("2026-01-01T09:00:00.000Z", "Stale"),
    )
    assert IngestedRecord.objects.get().data["Name"] == "Newest"


def test_a_delete_keeps_the_record_marked_with_when_it_was_found(connection):
    _write(connection, _rec("2026-01-01T09:00:00.000Z", "Ada"))
    _write(connection, _rec("2026-01-01T10:00:00.000Z", "Ada", deleted=True))
    record = IngestedRecord.objects.get()
    assert record.is_deleted
    found = record.deleted_at
    assert found is not None
    _write(connection, _rec("2026-01-01T10:00:00.000Z", "Ada", deleted=True))
    assert IngestedRecord.objects.get().deleted_at == found
    _write(connection, _rec("2026-01-01T11:00:00.000Z", "Ada"))
    record = IngestedRecord.objects.get()
    assert (record.is_deleted, record.deleted_at) == (False, None)


def test_merging_fields_sets_only_those_keys(connection):
    _write(connection, _rec("2026-01-01T09:00:00.000Z", "Ada"))
    merge_fields(connection_id=connection.pk, sobject="Contact", values={ID: {"Body": "aGk="}})
    assert IngestedRecord.objects.get().data == {"Id": ID, "Name": "Ada", "Body": "aGk="}


def test_facets_are_stored_and_replaced_with_the_record(connection):
    first = ParsedRecord(
        ID, {"Id": ID, "Status": "Open"}, "2026-01-01T09:00:00.000Z", False, {"Status": "Open"}
    )
    _write(connection, first)
    assert IngestedRecord.objects.get().facets == {"Status": "Open"}
    _write(connection, ParsedRecord(ID, {"Id": ID}, "2026-01-01T10:00:00.000Z", False, {}))
    assert IngestedRecord.objects.get().facets == {}


def test_merging_a_facet_field_updates_the_facets_too(connection):
    stamp = "2026-01-01T09:00:00.000Z"
    data = {"Id": ID, "Status": "Open", "IsVip__c": True}
    _write(connection, ParsedRecord(ID, data, stamp, False, {"Status": "Open", "IsVip__c": True}))
    facets = frozenset({"Status", "IsVip__c", "Tier__c"})
    patch = {"IsVip__c": None, "Tier__c": "Gold", "Score__c": 3.5}
    changed = merge_fields(
        connection_id=connection.pk, sobject="Contact", values={ID: patch}, facet_fields=facets
    )
    record = IngestedRecord.objects.get()
    assert changed == 1
    assert record.facets == {"Status": "Open", "Tier__c": "Gold"}
    assert record.data == {"Id": ID, "Status": "Open", "Tier__c": "Gold", "Score__c": 3.5}


def test_a_merge_that_clears_a_field_removes_its_key_and_changes_nothing_twice(connection):
    # data leaves empty fields out: a None in a patch removes the key, and a patch whose
    # values are already so (set, or absent for None) rewrites nothing.
    stamp = "2026-01-01T09:00:00.000Z"
    _write(
        connection, ParsedRecord(ID, {"Id": ID, "Formula__c": 7.0, "Other__c": "x"}, stamp, False)
    )
    patch = {"Formula__c": None, "Never__c": None, "Other__c": "x"}

    def merge() -> int:
        return merge_fields(connection_id=connection.pk, sobject="Contact", values={ID: patch})

    assert merge() == 1
    assert IngestedRecord.objects.get().data == {"Id": ID, "Other__c": "x"}
    assert merge() == 0


def test_a_page_mixing_new_and_stored_ids_writes_every_record_once(connection):
    ids = [f"0035g00000ABC{n:02d}AAA" for n in range(6)]
    old, new = "2026-01-01T09:00:00.000Z", "2026-01-01T10:00:00.000Z"
    _write(connection, ParsedRecord(ids[4], {"Id": ids[4], "Name": "Stored"}, old, False))
    page = [ParsedRecord(i, {"Id": i, "Name": "Page"}, new, False) for i in ids]
    stats = write_records(
        connection_id=connection.pk,
        sobject="Contact",
        run_id=None,
        records=iter(page),
        now=timezone.now(),
        batch_size=2,  # the stored Id sits in the last batch
    )
    assert (stats.read, stats.written) == (6, 6)
    names = dict(IngestedRecord.objects.values_list("sf_id", "data__Name"))
    assert names == dict.fromkeys(ids, "Page")


def test_text_with_escapes_and_any_script_is_stored_exactly(connection):
    awkward = 'back\\slash "quoted"\nnew line\ttab \\N Zoë 東京 🚀'
    data = {"Id": ID, "Name": awkward, "Notes": "\\", "Tags": ["a\\b", "c\td"]}
    _write(connection, ParsedRecord(ID, data, "2026-01-01T09:00:00.000Z", False, {}))
    assert IngestedRecord.objects.get().data == data
    _write(
        connection, ParsedRecord(ID, data | {"Notes": "\r\n"}, "2026-01-01T10:00:00.000Z", False)
    )
    assert IngestedRecord.objects.get().data["Notes"] == "\r\n"  # through the upsert path too


def test_each_written_page_hands_the_c_heaps_free_memory_back(connection, monkeypatch):
    from ingestion.engine import records

    trims = []
    monkeypatch.setattr(records, "_MALLOC_TRIM", trims.append)
    _write(connection, _rec("2026-01-01T00:00:00.000+0000", "Ada"))
    _write(connection, _rec("2026-01-02T00:00:00.000+0000", "Ada Lovelace"))
    assert trims == [0, 0]


def test_malloc_trim_is_found_on_glibc_and_skipped_elsewhere(monkeypatch):
    import platform

    from ingestion.engine import records

    if platform.libc_ver()[0] == "glibc":
        assert records._libc("malloc_trim") is not None
        assert records._libc("mallopt") is not None
    monkeypatch.setattr(records.ctypes.util, "find_library", lambda name: "libnothing.so.9")
    assert records._libc("malloc_trim") is None
    monkeypatch.setattr(records, "_MALLOC_TRIM", None)
    monkeypatch.setattr(records, "_MALLOPT", None)
    records.release_free_memory()  # nothing to call: no error
    records.limit_malloc_arenas(1)


def test_the_arena_limit_goes_to_mallopt_and_zero_leaves_glibc_alone(monkeypatch):
    from ingestion.engine import records

    calls = []
    monkeypatch.setattr(records, "_MALLOPT", lambda *args: calls.append(args))
    records.limit_malloc_arenas(0)
    records.limit_malloc_arenas(2)
    assert calls == [(-8, 2)]  # M_ARENA_MAX in glibc's malloc.h

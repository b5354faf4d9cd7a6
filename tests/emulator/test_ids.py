"""Record Ids: case-safe checksum, key prefixes, fast encoders agreeing with the slow one."""

from __future__ import annotations

from emulator.ids import IdCodec, checksum_suffix, is_valid_id, to18


def test_it_computes_the_case_safe_suffix_of_a_documented_id():
    assert to18("001A0000006Vm9r") == "001A0000006Vm9rIAC"


def test_it_accepts_15_and_18_character_ids_and_rejects_bad_checksums():
    assert is_valid_id("001A0000006Vm9r")
    assert is_valid_id("001A0000006Vm9rIAC")
    assert not is_valid_id("001A0000006Vm9rAAA")
    assert not is_valid_id("not-an-id")


def test_every_encoder_gives_valid_18_character_ids_that_decode_back():
    codec = IdCodec("003")
    indexes = [0, 1, 61, 62, 3843, 3844, 3845, 299_999, 1_234_567]
    many = codec.encode_many(indexes)
    assert many == [codec.encode(i) for i in indexes]
    for i, sf_id in zip(indexes, many, strict=True):
        assert len(sf_id) == 18
        assert sf_id.startswith("003")
        assert sf_id[15:] == checksum_suffix(sf_id[:15])
        assert codec.decode(sf_id) == i
        assert codec.decode(sf_id[:15]) == i


def test_range_encoding_matches_one_by_one_encoding_across_block_edges():
    codec = IdCodec("00Q")
    start = 3844 * 2 - 5
    assert codec.encode_range(start, 20) == codec.encode_many(range(start, start + 20))
    quoted = codec.encode_range(start, 3, quote=True)
    assert quoted == [f'"{x}"' for x in codec.encode_many(range(start, start + 3))]


def test_string_order_of_ids_is_index_order():
    codec = IdCodec("001")
    ids = codec.encode_many(range(0, 200_000, 997))
    assert ids == sorted(ids)


def test_it_does_not_decode_another_objects_id():
    assert IdCodec("001").decode(IdCodec("003").encode(5)) is None

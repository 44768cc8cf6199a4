"""Reading a suppression list's body: lines across chunks, line endings, the registry's form."""

import random

import pytest

from consent.contacts import normalise_phone
from consent.crypto import KeyRing
from consent.errors import InvalidContactPointError
from consent.list_reading import ListFormat, ReadEntries, read_entries
from consent.list_reading import _nanp_e164 as nanp_e164

KEYRING = KeyRing(b"k" * 32)


def read(
    chunks: list[bytes], region: str | None = "US", fmt: ListFormat = ListFormat.CSV
) -> ReadEntries:
    return read_entries(chunks, fmt, KEYRING, region)


def hashes(entries: ReadEntries) -> list[bytes]:
    data = entries.spool.read()
    entries.close()
    return [data[at + 1 : at + 33] for at in range(0, len(data), 37)]


def phone_hash(e164: str) -> bytes:
    return KEYRING.lookup_hash("phone", e164)


def test_a_line_split_across_chunks_is_read_whole() -> None:
    entries = read([b"+1212555", b"0100\n+12125", b"550101"])
    assert hashes(entries) == [phone_hash("+12125550100"), phone_hash("+12125550101")]


def test_windows_line_endings_and_a_byte_order_mark_are_read() -> None:
    entries = read(["\ufeffphone\r\n+12125550100\r\n".encode()])
    assert (entries.entries, entries.rejected) == (1, 0)


def test_blank_lines_are_skipped_not_rejected() -> None:
    entries = read([b"\n+12125550100\n\n   \n"])
    assert (entries.entries, entries.rejected) == (1, 0)


def test_a_line_that_is_not_utf8_is_rejected_by_number() -> None:
    entries = read([b"+12125550100\n\xff\xfe\n"])
    assert [(r.line, r.reason) for r in entries.rejections] == [(2, "not UTF-8 text")]


@pytest.mark.parametrize(
    ("depth", "reason"),
    [
        (1_000, "expected exactly one of phone or email, as a string"),
        (2_000, "not a JSON object"),  # past the parser's depth limit, inside the line's length
    ],
)
def test_a_deeply_nested_ndjson_line_is_rejected_by_number(depth: int, reason: str) -> None:
    """json.loads recursed into a thousand brackets and failed the whole load (a 500)."""
    nested = ("[" * depth + "]" * depth).encode()
    lines = b'{"phone": "+12125550100"}\n{"phone": ' + nested + b'}\n{"phone": "+12125550101"}\n'
    entries = read([lines], fmt=ListFormat.NDJSON)
    assert [(r.line, r.reason) for r in entries.rejections] == [(2, reason)]
    assert hashes(entries) == [phone_hash("+12125550100"), phone_hash("+12125550101")]


def test_the_header_may_name_only_email() -> None:
    entries = read([b"email\nAna@Example.com\n"], region=None)
    assert hashes(entries) == [KEYRING.lookup_hash("email", "ana@example.com")]


def test_a_header_row_with_a_missing_field_is_rejected() -> None:
    entries = read([b"phone,listed_on\n+12125550100\n"])
    assert [(r.line, r.reason) for r in entries.rejections] == [
        (2, "1 field(s), the header names 2")
    ]


@pytest.mark.parametrize("seed", range(5))
def test_ten_digit_registry_lines_hash_as_the_parser_reads_the_number(seed: int) -> None:
    """The fast path for the registry's lines agrees with phonenumbers on valid numbers."""
    rng = random.Random(seed)
    compared = 0
    for _ in range(200):
        digits = f"{rng.randint(200, 999)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        try:
            expected = normalise_phone(digits, "US")
        except InvalidContactPointError:
            continue  # not a valid number: the parser would reject it
        assert nanp_e164(digits, "US") == expected
        compared += 1
    assert compared > 50


@pytest.mark.parametrize("digits", ["1212555010", "2121555010", "212555010", "21255501000"])
def test_lines_outside_the_registry_form_go_to_the_parser(digits: str) -> None:
    assert nanp_e164(digits, "US") is None


def test_the_fast_path_is_only_for_north_american_copies() -> None:
    assert nanp_e164("2125550100", "ES") is None


def test_a_canadian_registry_line_is_read_as_the_parser_reads_it() -> None:
    assert nanp_e164("4165550123", "CA") == normalise_phone("4165550123", "CA") == "+14165550123"

"""ContactRequest.with_lists, spelt out for speed, must carry every other field."""

from dataclasses import fields
from typing import Any

from consent.decide import ContactRequest


def test_with_lists_keeps_every_other_field_including_ones_added_later() -> None:
    # A distinct object per field: a field that with_lists forgets comes back as its
    # default, which is none of these.
    values: dict[str, Any] = {field.name: object() for field in fields(ContactRequest)}
    request = ContactRequest(**values)
    lists: dict[str, Any] = {"us_dnc": object()}

    changed = request.with_lists(lists)

    assert changed.lists is lists
    for field in fields(ContactRequest):
        if field.name != "lists":
            assert getattr(changed, field.name) is values[field.name], field.name

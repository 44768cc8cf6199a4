"""A stdout stand-in for the log tests: what each write call wrote, kept apart."""

import io
import sys

import pytest


class Writes(io.StringIO):
    """A stream that keeps each write call apart, as an unbuffered stdout sends each out."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return super().write(text)


def stdout_writes(monkeypatch: pytest.MonkeyPatch) -> Writes:
    """Call it in the test's body: pytest's own capture takes sys.stdout back after the
    fixtures have run."""
    stream = Writes()
    monkeypatch.setattr(sys, "stdout", stream)
    return stream

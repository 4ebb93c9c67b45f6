"""Errors raised by the catalogue: invalid data at load time, unknown ids at lookup time."""

from __future__ import annotations


class CatalogueError(ValueError):
    """The catalogue data is invalid; ``problems`` lists every problem found, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid plant catalogue ({len(self.problems)} problem(s)):\n{lines}")


class UnknownIdError(KeyError):
    """A species, disease, plant type or task that the catalogue does not hold (the API's 404)."""

    def __init__(self, kind: str, item_id: str) -> None:
        self.kind = kind
        self.item_id = item_id
        super().__init__(item_id)

    def __str__(self) -> str:
        # KeyError's own __str__ repr()s the argument; say what was looked up instead.
        return f"unknown {self.kind} id {self.item_id!r}"

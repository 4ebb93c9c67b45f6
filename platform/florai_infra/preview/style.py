"""ANSI colour for a terminal, plain text otherwise (CI logs, pipes, tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

_CODES = {"green": "32", "red": "31", "yellow": "33", "cyan": "36", "bold": "1", "dim": "2"}


@dataclass(frozen=True)
class Style:
    color: bool = False

    @classmethod
    def for_stream(cls, stream: TextIO, no_color: bool = False) -> Style:
        return cls(color=not no_color and stream.isatty())

    def paint(self, text: str, name: str) -> str:
        return f"\033[{_CODES[name]}m{text}\033[0m" if self.color else text

    def green(self, text: str) -> str:
        return self.paint(text, "green")

    def red(self, text: str) -> str:
        return self.paint(text, "red")

    def yellow(self, text: str) -> str:
        return self.paint(text, "yellow")

    def cyan(self, text: str) -> str:
        return self.paint(text, "cyan")

    def bold(self, text: str) -> str:
        return self.paint(text, "bold")

    def dim(self, text: str) -> str:
        return self.paint(text, "dim")

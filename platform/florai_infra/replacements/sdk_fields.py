"""The input names the installed pulumi-aws SDK gives a resource type (its ``@pulumi.getter`` names)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_TOKEN = re.compile(r"'(aws:\w+/\w+:\w+)',\n")
_NAMED = re.compile(r'pulumi\.getter\(name="(\w+)"\)')
_PLAIN = re.compile(r"@pulumi\.getter\n    def (\w+)\(self\)")


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@cache
def _modules() -> dict[str, Path]:
    import pulumi_aws

    root = Path(pulumi_aws.__file__).parent
    found: dict[str, Path] = {}
    for module in sorted(root.glob("*/*.py")):
        for token in _TOKEN.findall(module.read_text()):
            found.setdefault(token, module)
    return found


def sdk_types() -> set[str]:
    return set(_modules())


def sdk_fields(token: str) -> set[str]:
    """Every property name (camelCase, as on the wire) of the module that declares ``token``."""
    module = _modules().get(token)
    if module is None:
        return set()
    text = module.read_text()
    return set(_NAMED.findall(text)) | {_camel(name) for name in _PLAIN.findall(text)}

"""The vendored replace table (platform/upstream/aws-provider/replace-rules.json), one rule per type."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from florai_infra.offline.engine import REPO_ROOT

RULES_FILE = REPO_ROOT / "platform" / "upstream" / "aws-provider" / "replace-rules.json"
_INDEX = re.compile(r"\[\d+\]")


class UncoveredTypeError(LookupError):
    """A declared AWS type the replace table has no rule for: regenerate the table."""


@dataclass(frozen=True)
class ReplaceRule:
    type: str
    terraform: str
    replace_on_changes: tuple[str, ...]
    regional: bool
    name_field: str | None
    terraform_attributes: tuple[str, ...] = ()

    def forces_replacement(self, path: str) -> bool:
        """Whether changing input ``path`` (``a.b[0].c``) replaces the resource."""
        bare = _INDEX.sub("", path)
        return any(
            bare == p or bare.startswith(p + ".") or p.startswith(bare + ".") for p in self.replace_on_changes
        )


@cache
def load_rules(path: Path = RULES_FILE) -> dict[str, ReplaceRule]:
    data = json.loads(path.read_text())
    return {
        token: ReplaceRule(
            type=token,
            terraform=entry["terraform"],
            replace_on_changes=tuple(entry["replaceOnChanges"]),
            regional=entry["regional"],
            name_field=entry.get("nameField"),
            terraform_attributes=tuple(entry.get("terraformAttributes") or ()),
        )
        for token, entry in data.items()
    }


def is_covered_type(type_: str) -> bool:
    """AWS resources need a rule; components, providers and other packages' types do not."""
    return type_.startswith("aws:")


def rule_for(type_: str) -> ReplaceRule:
    rules = load_rules()
    if type_ not in rules:
        raise UncoveredTypeError(
            f"{type_} has no replace rule in {RULES_FILE.name}: add it to florai_infra/replacements/types.py "
            "and regenerate (python -m florai_infra.replacements.generate)"
        )
    return rules[type_]

"""The recorded result of an offline run: resources and stack outputs, as deterministic JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

SECRET_MARK = "[secret]"
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class PlannedResource:
    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    dependencies: tuple[str, ...]
    inputs: dict[str, Any]
    provider: str | None = None
    # Resource options from the RegisterResource request; None in a plan recorded without them.
    protect: bool | None = None
    retain_on_delete: bool | None = None

    @property
    def options(self) -> list[str]:
        """The options that change what a destroy or replacement does, in words."""
        marks = [("protected", self.protect), ("retained on delete", self.retain_on_delete)]
        return [label for label, on in marks if on]

    @property
    def is_component(self) -> bool:
        return not self.custom

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "dependencies": sorted(self.dependencies),
            "inputs": self.inputs,
            "protect": self.protect,
            "retainOnDelete": self.retain_on_delete,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlannedResource:
        return cls(
            urn=data["urn"],
            type=data["type"],
            name=data["name"],
            parent=data.get("parent"),
            custom=data["custom"],
            dependencies=tuple(data.get("dependencies", ())),
            inputs=data.get("inputs", {}),
            protect=data.get("protect"),
            retain_on_delete=data.get("retainOnDelete"),
        )


@dataclass
class Plan:
    project: str
    stack: str
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    # --- queries used by tests, policies and the renderer -------------------------
    def by_type(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> PlannedResource:
        found = [r for r in self.by_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = sorted(r.name for r in self.by_type(type_))
            raise LookupError(f"expected one {type_} named {name!r}, found {names}")
        return found[0]

    def get(self, urn: str) -> PlannedResource:
        for r in self.resources:
            if r.urn == urn:
                return r
        raise LookupError(urn)

    def children(self, urn: str | None) -> list[PlannedResource]:
        return [r for r in self.resources if r.parent == urn]

    @property
    def custom_resources(self) -> list[PlannedResource]:
        return [r for r in self.resources if r.custom]

    # --- serialisation -------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [r.to_json() for r in sorted(self.resources, key=lambda r: r.urn)],
            "outputs": self.outputs,
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def loads(cls, text: str) -> Plan:
        data = json.loads(text)
        return cls(
            project=data["project"],
            stack=data["stack"],
            resources=[PlannedResource.from_json(r) for r in data["resources"]],
            outputs=data.get("outputs", {}),
        )

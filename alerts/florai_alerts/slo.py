"""SLO specs (alerts/slos/<service>.yaml): one service, its SLOs, their SLI error and total queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import promql_parser
import yaml

from florai_alerts.labels import SERVICE_LABEL, service_label_value
from florai_alerts.layout import SLO_DIR

WINDOW_PLACEHOLDER = "{{window}}"
SLO_KINDS = ("availability", "latency")
SLO_WINDOW = "30d"  # every burn-rate factor below assumes a 30-day budget
_SERVICE_MATCHER = re.compile(SERVICE_LABEL + r'="([^"]*)"')


class SLOSpecError(ValueError):
    """A spec file that cannot produce correct rules; the message names the file and the field."""


@dataclass(frozen=True)
class SLO:
    service: str
    name: str
    description: str
    objective: float
    window: str
    error_query: str
    total_query: str

    @property
    def error_budget(self) -> float:
        return 1.0 - self.objective

    @property
    def service_label(self) -> str:
        return service_label_value(self.service)

    def error_ratio_query(self, window: str) -> str:
        """Share of failing events over ``window``: (errors) / (total)."""
        errors = self.error_query.replace(WINDOW_PLACEHOLDER, window)
        total = self.total_query.replace(WINDOW_PLACEHOLDER, window)
        return f"(\n  {errors}\n)\n/\n(\n  {total}\n)"


def _check_query(source: str, service: str, field: str, query: str) -> list[str]:
    problems = []
    if WINDOW_PLACEHOLDER not in query:
        problems.append(f"{source}: {field} has no {WINDOW_PLACEHOLDER} placeholder")
    try:
        promql_parser.parse(query.replace(WINDOW_PLACEHOLDER, "5m"))
    except ValueError as exc:
        problems.append(f"{source}: {field} is not valid PromQL: {exc}")
    wanted = service_label_value(service)
    found = set(_SERVICE_MATCHER.findall(query))
    if found != {wanted}:
        problems.append(f'{source}: {field} must select {SERVICE_LABEL}="{wanted}" (found {sorted(found)})')
    return problems


def parse_spec(source: str, document: object) -> list[SLO]:
    """Validate one spec document; raise SLOSpecError listing every problem."""
    if not isinstance(document, dict) or not isinstance(document.get("slos"), list):
        raise SLOSpecError(f"{source}: expected a mapping with `service` and a list `slos`")
    service = document.get("service")
    try:
        service_label_value(str(service))
    except ValueError as exc:
        raise SLOSpecError(f"{source}: {exc}") from None
    problems: list[str] = []
    slos: list[SLO] = []
    for index, entry in enumerate(document["slos"]):
        where = f"{source}: slos[{index}]"
        sli = entry.get("sli") or {}
        name, objective = entry.get("name"), entry.get("objective")
        if name not in SLO_KINDS:
            problems.append(f"{where}: name must be one of {', '.join(SLO_KINDS)} (got {name!r})")
        if not isinstance(objective, float) or not 0.9 <= objective < 1.0:
            problems.append(f"{where}: objective must be a ratio in [0.9, 1), e.g. 0.995 (got {objective!r})")
        if entry.get("window") != SLO_WINDOW:
            problems.append(f"{where}: window must be {SLO_WINDOW} (got {entry.get('window')!r})")
        for field in ("error_query", "total_query"):
            if not isinstance(sli.get(field), str):
                problems.append(f"{where}: sli.{field} is required")
            else:
                problems += _check_query(where, str(service), f"sli.{field}", sli[field])
        if not problems:
            slos.append(
                SLO(
                    service=str(service),
                    name=name,
                    description=str(entry.get("description", "")).strip(),
                    objective=objective,
                    window=entry["window"],
                    error_query=sli["error_query"].strip(),
                    total_query=sli["total_query"].strip(),
                )
            )
    names = [s.name for s in slos]
    if len(names) != len(set(names)):
        problems.append(f"{source}: an SLO name appears twice")
    if problems:
        raise SLOSpecError("\n".join(problems))
    return slos


def load_slos(directory: Path = SLO_DIR) -> list[SLO]:
    slos: list[SLO] = []
    for path in sorted(directory.glob("*.yaml")):
        slos += parse_spec(path.name, yaml.safe_load(path.read_text()))
    return slos

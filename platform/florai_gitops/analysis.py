"""An Argo Rollouts analysis measurement's phase, offline: the metric's successCondition and
failureCondition evaluated on a Prometheus result the way the controller does (metricproviders
EvaluateResult), for tests of what the canary does with a result, empty ones included.

The conditions are expr-lang expressions; this evaluates the subset the templates use (``&&``, ``||``,
``!``, comparisons, ``len``, ``isNaN``, ``result[i]``) and refuses anything else.
"""

from __future__ import annotations

import math
import re
from typing import Any

SUCCESSFUL, FAILED, INCONCLUSIVE = "Successful", "Failed", "Inconclusive"
ALLOWED = re.compile(r"^(?:\s|len|isNaN|result|\[\d+\]|\(|\)|&&|\|\||!=|!|[<>]=?|==|\d+(?:\.\d+)?)*$")


def condition(expression: str, result: list[float]) -> bool:
    if not ALLOWED.match(expression):
        raise ValueError(f"condition outside the supported subset: {expression!r}")
    python = expression.replace("&&", " and ").replace("||", " or ")
    python = re.sub(r"!(?!=)", " not ", python)
    namespace: dict[str, Any] = {"__builtins__": {}, "len": len, "isNaN": math.isnan, "result": result}
    return bool(eval(python, namespace))  # noqa: S307 (checked against ALLOWED above)


def phase(metric: dict[str, Any], result: list[float]) -> str:
    success, failure = metric.get("successCondition", ""), metric.get("failureCondition", "")
    succeeded = bool(success) and condition(success, result)
    failed = bool(failure) and condition(failure, result)
    if not success and not failure:
        return SUCCESSFUL
    if success and not failure:
        return SUCCESSFUL if succeeded else FAILED
    if failure and not success:
        return FAILED if failed else SUCCESSFUL
    if failed:
        return FAILED
    return SUCCESSFUL if succeeded else INCONCLUSIVE

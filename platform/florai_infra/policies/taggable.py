"""Which AWS resource types accept ``tags``: read from the pulumi_aws resource class signature.

A hand-kept list would drift with every provider release; the generated class knows.
"""

from __future__ import annotations

import functools
import importlib
import inspect

import pulumi

AWS_PACKAGE = "pulumi_aws"


def _resource_class(type_token: str) -> type | None:
    """The pulumi_aws class for ``aws:<module>/<name>:<Class>``, or None if it is not there."""
    try:
        provider, module, class_name = type_token.split(":")
    except ValueError:
        return None
    if provider != "aws":
        return None
    package = module.split("/")[0]
    candidates = [AWS_PACKAGE] if package == "index" else [f"{AWS_PACKAGE}.{package}"]
    candidates.append(f"{AWS_PACKAGE}.{package}_")  # keywords: lambda -> lambda_
    for name in candidates:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        cls = getattr(mod, class_name, None)
        if isinstance(cls, type) and pulumi.get_type_token(cls) == type_token:
            return cls
    return None


@functools.cache
def is_taggable(type_token: str) -> bool:
    """True when the resource's constructor takes a ``tags`` argument."""
    cls = _resource_class(type_token)
    if cls is None:
        return False
    init = getattr(cls, "_internal_init", None) or cls.__init__
    return "tags" in inspect.signature(init).parameters

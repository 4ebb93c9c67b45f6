"""FlorAI infrastructure: the Pulumi components, policies and the offline preview engine.

The folder ``platform/`` holds the Pulumi program (``__main__.py``); this package sits
beside it under its own name so it never shadows the standard library's ``platform``.
"""

PROJECT = "florai"
STACKS = ("dev", "staging", "prod")

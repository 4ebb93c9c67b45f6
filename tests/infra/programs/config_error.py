"""A program that rejects its config the way florai_infra.config does: a ConfigError naming the key."""

import pulumi


class ConfigError(ValueError):
    """Same name as florai_infra.config.ConfigError: the preview recognises it by name."""


config = pulumi.Config("florai")
size = config.get_int("nodeCount")
if size is None or size < 1:
    raise ConfigError(f"florai:nodeCount must be a positive integer, got {size!r}")

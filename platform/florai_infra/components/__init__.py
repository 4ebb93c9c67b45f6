"""One Pulumi ComponentResource per concern; ``platform/__main__.py`` wires them together."""

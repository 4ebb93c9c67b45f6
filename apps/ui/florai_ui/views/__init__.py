"""The page's parts: one module per tab or result kind, each a ``render`` function."""

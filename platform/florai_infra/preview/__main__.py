"""Entry point: ``python -m florai_infra.preview --stack prod`` (see cli.py)."""

from florai_infra.preview.cli import main

raise SystemExit(main())

"""``python -m florai_alerts generate [--check]``: write the generated rules, or fail if they are stale."""

from __future__ import annotations

import argparse
import sys

from florai_alerts.generate import stale_files, write_all
from florai_alerts.layout import REPO_ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m florai_alerts")
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="write alerts/generated/** and alerts/kustomization.yaml")
    generate.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path.relative_to(REPO_ROOT)}", file=sys.stderr)
        if stale:
            print("run `python -m florai_alerts generate` and commit the result", file=sys.stderr)
        return 1 if stale else 0
    for path in write_all():
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m florai_dashboards generate [--check]``: write (or verify) the committed dashboard files."""

from __future__ import annotations

import argparse
import sys

from florai_dashboards.render import ROOT, outputs, stale, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m florai_dashboards")
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="write dashboards/json, configmaps and kustomization")
    generate.add_argument("--check", action="store_true", help="exit 1 when the committed files are stale")
    args = parser.parse_args(argv)
    files = outputs()
    if args.check:
        problems = stale(files)
        for problem in problems:
            print(f"stale: dashboards/{problem}", file=sys.stderr)
        if problems:
            print("run: python -m florai_dashboards generate", file=sys.stderr)
        return 1 if problems else 0
    write(files)
    print(f"wrote {len(files)} files under {ROOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

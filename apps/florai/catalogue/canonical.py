"""The one on-disk form of the data files: sorted keys, records sorted by id, 2-space JSON, UTF-8.

``python -m florai.catalogue.canonical`` rewrites the files in that form; ``--check`` only reports.
Stage lists keep their order (it is the order of growth).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from florai.catalogue.loader import DATA_DIR, DATA_FILES

# Top-level record lists whose order carries no meaning, so they are kept sorted by id.
SORTED_LISTS = {"species.json": "species", "diseases.json": "diseases", "growth_stages.json": "plant_types"}


def canonical_text(name: str, document: Any) -> str:
    """The canonical text of data file ``name`` holding ``document``."""
    key = SORTED_LISTS.get(name)
    if key and isinstance(document, dict) and isinstance(document.get(key), list):
        document = {**document, key: sorted(document[key], key=lambda r: str(r.get("id", "")))}
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def non_canonical_files(folder: Path = DATA_DIR, rewrite: bool = False) -> list[str]:
    """Names of the data files in ``folder`` not in canonical form (rewritten when ``rewrite``)."""
    stale = []
    for name in DATA_FILES:
        path = folder / name
        text = path.read_text(encoding="utf-8")
        wanted = canonical_text(name, json.loads(text))
        if text != wanted:
            stale.append(name)
            if rewrite:
                path.write_text(wanted, encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report non-canonical files")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="folder holding the data files")
    args = parser.parse_args(argv)
    stale = non_canonical_files(args.data, rewrite=not args.check)
    for name in stale:
        print(f"{'not canonical' if args.check else 'rewrote'}: {args.data / name}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())

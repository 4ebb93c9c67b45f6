"""A /batch response as table rows (one per photo) and as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from florai_ui.api_client import Photo

COLUMNS = ("photo", "top answer", "confidence", "runner-up", "model", "error")


def rows(photos: Sequence[Photo], response: dict) -> list[dict[str, object]]:
    table = []
    for item in sorted(response.get("results", []), key=lambda r: r["index"]):
        row: dict[str, object] = dict.fromkeys(COLUMNS)
        row["photo"] = photos[item["index"]].name
        result, error = item.get("result"), item.get("error")
        if result:
            predictions = result.get("predictions") or []
            model = result.get("model") or {}
            row["model"] = f"{model.get('name', '')} {model.get('version', '')}".strip()
            if predictions:
                row["top answer"] = predictions[0]["name"]
                row["confidence"] = round(float(predictions[0]["confidence"]), 4)
            if len(predictions) > 1:
                row["runner-up"] = predictions[1]["name"]
        elif error:
            row["error"] = f"{error.get('status')} {error.get('code')}: {error.get('detail')}"
        table.append(row)
    return table


def to_csv(table: Sequence[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    return out.getvalue()

"""Reads a CSV of sales from the directory the step is granted, in Python."""

import csv

from weft import Context, Json, solid


@solid(
    outputs={"rows": (Json, "One object per row: region and amount"), "raw": (bytes, "The file, as read")},
    config_schema={
        "type": "object",
        "properties": {"path": {"type": "string", "default": "/data/sales.csv", "description": "The CSV to read"}},
    },
)
def parse_csv(ctx: Context):
    """Parses a CSV of sales into rows."""
    path = ctx.config["path"]
    with open(path, "rb") as f:
        raw = f.read()
    rows = [{"region": r["region"], "amount": int(r["amount"])} for r in csv.DictReader(raw.decode().splitlines())]
    ctx.info(f"read {len(rows)} rows from {path}")
    return {"rows": rows, "raw": raw}

"""The Python twin of tests/solids/conformance: every part of the contract, both ways."""

from typing import Any, Optional

from weft import Context, Failure, Json, Many, Url, solid

SCHEMA = {
    "type": "object",
    "properties": {
        "shout": {"type": "boolean", "default": False},
        "fail": {"type": "boolean", "default": False, "description": "Fail with metadata instead"},
    },
}


@solid(
    name="conformance",
    version="3",
    config_schema=SCHEMA,
    inputs={"text": "The text to describe", "scale": "Multiplies the length", "extras": "Anything else"},
    outputs={
        "length": (int, "The text's length in bytes"),
        "scaled": float,
        "summary": Json,
        "raw": bytes,
        "flag": bool,
        "nothing": (Optional[str], "Never produced"),
        "echo": (str, "The text, shouted if the config says so"),
    },
    tags={"team": "weft", "kind": "test"},
)
def describe_text(ctx: Context, text: str, scale: Optional[float], extras: Many[Any]):
    """Describes a text in every value type there is."""
    config = ctx.config
    if config["fail"]:
        raise Failure("asked to fail", retryable=True, metadata={"language": "python", "extras": len(extras)})
    shown = text.upper() if config["shout"] else text
    ctx.yield_output("echo", shown)
    ctx.info(f"run {ctx.run_id} step {ctx.step_key}")
    ctx.warn(f"partition {ctx.partition_key}")
    print(f"to stdout: {shown}")
    print(f"to stderr: {len(extras)} extras", file=__import__("sys").stderr)
    ctx.expectation("not_empty", len(text) > 0, "the text has at least one byte", {"length": len(text.encode())})
    ctx.materialization("tests/conformance", "a pretend table", {"rows": 3, "url": Url("https://example.com/t")})
    length = len(text.encode())
    summary = {"words": len(text.split()), "extras": len(extras), "shout": config["shout"]}
    return {
        "length": length,
        "scaled": length * (scale if scale is not None else 1.0),
        "summary": summary,
        "raw": text.encode(),
        "flag": True,
        "nothing": None,
    }

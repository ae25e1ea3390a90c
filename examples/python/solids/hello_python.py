"""The seed's hello_world, in Python: it greets, and salutation (in Rust) completes it."""

from weft import Context, solid


@solid(output="greeting", config_schema={
    "type": "object",
    "properties": {"name": {"type": "string", "default": "Python", "description": "Who says hello"}},
})
def hello_python(ctx: Context) -> str:
    """Says hello from Python."""
    name = ctx.config["name"]
    ctx.info(f"greeting from {name}")
    return f"Hello from {name},"

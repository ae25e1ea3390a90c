"""{{name}}: greets whoever the config names."""

from weft import Context, solid


@solid(
    outputs={"greeting": (str, "The greeting")},
    config_schema={
        "type": "object",
        "properties": {"name": {"type": "string", "default": "world", "description": "Who to greet"}},
    },
)
def {{name}}(ctx: Context):
    """Greets whoever the config names."""
    name = ctx.config["name"]
    ctx.info(f"greeting {name}")
    return {"greeting": f"Hello, {name}!"}

//! {{name}}: greets whoever the config names.
const std = @import("std");
const weft = @import("weft");

pub const panic = weft.panic; // a panic fails the step, its message on stderr

const Config = struct { name: []const u8 };

fn greet(ctx: *weft.Context) !void {
    const config = try ctx.configAs(Config);
    ctx.info("greeting {s}", .{config.name});
    const greeting = try std.fmt.allocPrint(ctx.allocator, "Hello, {s}!", .{config.name});
    try ctx.set("greeting", .{ .text = greeting });
}

comptime {
    weft.register(.{
        .name = "{{name}}",
        .description = "Greets whoever the config names.",
        .outputs = &.{.{ .name = "greeting", .description = "The greeting", .type = .text }},
        .config_schema =
        \\{"type": "object", "properties": {"name": {"type": "string", "default": "world", "description": "Who to greet"}}}
        ,
        .compute = greet,
    });
}

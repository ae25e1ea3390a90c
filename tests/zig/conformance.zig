//! The Zig twin of tests/python/conformance.py: every part of the contract, both ways.
const std = @import("std");
const weft = @import("weft");

pub const panic = weft.panic;

const Config = struct { shout: bool = false, fail: bool = false };

fn describeText(ctx: *weft.Context) !void {
    const config = try ctx.configAs(Config);
    const text = ctx.text("text").?;
    const extras: i64 = @intCast(ctx.count("extras"));
    if (config.fail) return ctx.fail("asked to fail", .{
        .retryable = true,
        .metadata = &.{ .{ "language", .{ .text = "zig" } }, .{ "extras", .{ .integer = extras } } },
    });
    const shown = if (config.shout) try std.ascii.allocUpperString(ctx.allocator, text) else text;
    try ctx.yield("echo", .{ .text = shown });
    ctx.info("run {s} step {s}", .{ try ctx.runId(), try ctx.stepKey() });
    ctx.warn("partition {s}", .{(try ctx.partitionKey()) orelse "None"});
    try ctx.print("to stdout: {s}\n", .{shown});
    try ctx.eprint("to stderr: {d} extras\n", .{extras});

    const length: i64 = @intCast(text.len);
    try ctx.expectation("not_empty", text.len > 0, "the text has at least one byte", &.{.{ "length", .{ .integer = length } }});
    try ctx.materialization("tests/conformance", "a pretend table", &.{
        .{ "rows", .{ .integer = 3 } },
        .{ "url", .{ .url = "https://example.com/t" } },
    });

    var words: i64 = 0;
    var it = std.mem.tokenizeAny(u8, text, " \t\n\r\x0b\x0c");
    while (it.next()) |_| words += 1;
    const summary = try std.fmt.allocPrint(ctx.allocator, "{{\"words\":{d},\"extras\":{d},\"shout\":{s}}}", .{
        words, extras, if (config.shout) "true" else "false",
    });
    try ctx.set("length", .{ .integer = length });
    try ctx.set("scaled", .{ .float = @as(f64, @floatFromInt(length)) * (ctx.float("scale") orelse 1.0) });
    try ctx.set("summary", .{ .json = summary });
    try ctx.set("raw", .{ .bytes = text });
    try ctx.set("flag", .{ .boolean = true });
    // "nothing" is optional and left unproduced.
}

comptime {
    weft.register(.{
        .name = "conformance",
        .description = "Describes a text in every value type there is.",
        .version = "3",
        .inputs = &.{
            .{ .name = "text", .description = "The text to describe", .type = .text },
            .{ .name = "scale", .description = "Multiplies the length", .type = .float, .optional = true },
            .{ .name = "extras", .description = "Anything else", .type = .any, .optional = true, .multiple = true },
        },
        .outputs = &.{
            .{ .name = "length", .description = "The text's length in bytes", .type = .integer },
            .{ .name = "scaled", .type = .float },
            .{ .name = "summary", .type = .json },
            .{ .name = "raw", .type = .bytes },
            .{ .name = "flag", .type = .boolean },
            .{ .name = "nothing", .description = "Never produced", .type = .text, .optional = true },
            .{ .name = "echo", .description = "The text, shouted if the config says so", .type = .text },
        },
        .config_schema =
        \\{"type": "object", "properties": {"shout": {"type": "boolean", "default": false}, "fail": {"type": "boolean", "default": false, "description": "Fail with metadata instead"}}}
        ,
        .tags = &.{ .{ "team", "weft" }, .{ "kind", "test" } },
        .compute = describeText,
    });
}

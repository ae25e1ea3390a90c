//! A Zig solid for the polyglot example: the 64-bit FNV-1a hash of a report's bytes.
const std = @import("std");
const weft = @import("weft");

pub const panic = weft.panic;

fn fnv1a64(data: []const u8) u64 {
    var hash: u64 = 0xcbf29ce484222325;
    for (data) |byte| {
        hash ^= byte;
        hash *%= 0x100000001b3;
    }
    return hash;
}

fn fingerprint(ctx: *weft.Context) !void {
    const report = ctx.text("report").?;
    const hex = try std.fmt.allocPrint(ctx.allocator, "{x:0>16}", .{fnv1a64(report)});
    ctx.info("FNV-1a of {d} bytes: {s}", .{ report.len, hex });
    try ctx.set("fnv1a", .{ .text = hex });
}

comptime {
    weft.register(.{
        .name = "fingerprint",
        .description = "Fingerprints the report with 64-bit FNV-1a.",
        .inputs = &.{.{ .name = "report", .description = "The report to fingerprint", .type = .text }},
        .outputs = &.{.{ .name = "fnv1a", .description = "The 64-bit FNV-1a hash as 16 lowercase hex digits", .type = .text }},
        .compute = fingerprint,
    });
}

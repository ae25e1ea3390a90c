//! weft.zig: write weft solids in Zig.
//!
//! A solid is one Zig file: a comptime declaration and a compute function.
//!
//!     const std = @import("std");
//!     const weft = @import("weft");
//!
//!     pub const panic = weft.panic; // a panic fails the step with its message on stderr
//!
//!     fn shout(ctx: *weft.Context) !void {
//!         const text = ctx.text("text").?;
//!         ctx.info("shouting {d} bytes", .{text.len});
//!         try ctx.set("result", .{ .text = try std.ascii.allocUpperString(ctx.allocator, text) });
//!     }
//!
//!     comptime {
//!         weft.register(.{
//!             .name = "shout",
//!             .description = "Shouts the text.",
//!             .inputs = &.{.{ .name = "text", .description = "The text to shout", .type = .text }},
//!             .outputs = &.{.{ .name = "result", .description = "The shouted text", .type = .text }},
//!             .compute = shout,
//!         });
//!     }
//!
//! `register` exports the contract's `describe` and `compute` through the wit-bindgen C
//! bindings of wit/solid.wit (solid.h/solid.c, translated for Zig as `solid_c`, reachable
//! here as `weft.c` for what this layer does not wrap: the `sql`, `key-value` and
//! `secrets` resources). Compute returns an error to fail: `return ctx.fail(...)` for a
//! structured failure, any other error fails with its name as the message.
//!
//! | weft type | Zig type      | read an input            | make a value           |
//! |-----------|---------------|--------------------------|------------------------|
//! | any       | weft.Value    | ctx.input(n), ctx.at(n,i)| any of these           |
//! | nothing   | -             | -                        | .null                  |
//! | boolean   | bool          | ctx.boolean(n)           | .{ .boolean = b }      |
//! | integer   | i64           | ctx.integer(n)           | .{ .integer = i }      |
//! | float     | f64           | ctx.float(n) (widens)    | .{ .float = f }        |
//! | text      | []const u8    | ctx.text(n)              | .{ .text = s }         |
//! | bytes     | []const u8    | ctx.bytes(n)             | .{ .bytes = b }        |
//! | json      | []const u8    | ctx.json(n)              | .{ .json = s }         |
//!
//! Readers return null when the input is absent (optional inputs) or of another type;
//! fan-in (`.multiple = true`) inputs hold one value per upstream output: ctx.count(n)
//! and ctx.at(n, i). Everything the layer hands out lives until compute returns;
//! `ctx.allocator` is an arena freed then too. set/yield/fail copy what they are given.
//!
//! Building (zig 0.17, which has no @cImport: solid_c.zig is solid.h translated):
//!
//!     zig build-exe -target wasm32-wasi -mexec-model=reactor -fno-entry -lc -O ReleaseSmall \
//!         -femit-bin=solid.core.wasm --dep weft -Mroot=my_solid.zig \
//!         --dep solid_c -Mweft=guest-sdk/zig/weft.zig \
//!         guest-sdk/c/solid.c guest-sdk/c/solid_component_type.o -Msolid_c=guest-sdk/zig/solid_c.zig
//!
//! then `wasm-tools component new` with the WASI preview 1 reactor adapter, as for C.

const std = @import("std");

/// The raw wit-bindgen C bindings.
pub const c = @import("solid_c");

/// The declared type of an input or output (the contract's value-type, same order).
pub const Type = enum(u8) { any, nothing, boolean, integer, float, text, bytes, json };

pub const Input = struct {
    name: []const u8,
    description: []const u8 = "",
    type: Type = .any,
    /// The step runs even when nothing feeds it.
    optional: bool = false,
    /// Fan-in: any number of values.
    multiple: bool = false,
};

pub const Output = struct {
    name: []const u8,
    description: []const u8 = "",
    type: Type = .any,
    /// The solid may leave it unproduced.
    optional: bool = false,
};

pub const ResourceKind = enum(u8) { key_value, sql, http, secrets };

pub const Resource = struct {
    /// The name modes bind it under.
    name: []const u8,
    kind: ResourceKind,
};

/// A solid's declaration, for `register`.
pub const Solid = struct {
    name: []const u8,
    description: []const u8 = "",
    version: []const u8 = "1",
    inputs: []const Input = &.{},
    outputs: []const Output = &.{},
    /// A JSON Schema as text.
    config_schema: ?[]const u8 = null,
    resources: []const Resource = &.{},
    /// Key-value tags, in order.
    tags: []const [2][]const u8 = &.{},
    compute: *const fn (*Context) anyerror!void,
};

/// A value flowing between solids.
pub const Value = union(enum) {
    null,
    boolean: bool,
    integer: i64,
    float: f64,
    text: []const u8,
    bytes: []const u8,
    json: []const u8,
};

/// A metadata value for failures, expectations and materializations.
pub const Meta = union(enum) {
    text: []const u8,
    markdown: []const u8,
    url: []const u8,
    path: []const u8,
    json: []const u8,
    integer: i64,
    float: f64,
    boolean: bool,
};

/// A labelled metadata value: `.{ "rows", .{ .integer = 3 } }`.
pub const Entry = struct { []const u8, Meta };

pub const Level = enum(u8) { trace, debug, info, warn, @"error" };

pub const FailOptions = struct {
    retryable: bool = false,
    metadata: []const Entry = &.{},
};

/// Exports the contract's `describe` and `compute` for `solid`. Call it once, in a
/// top-level `comptime` block.
pub fn register(comptime solid: Solid) void {
    const exports = struct {
        fn describe(ret: *c.exports_weft_solid_guest_solid_def_t) callconv(.c) void {
            describeInto(&solid, ret);
        }
        fn compute(
            inputs: *c.exports_weft_solid_guest_list_named_value_t,
            ret: *c.exports_weft_solid_guest_list_named_value_t,
            err: *c.exports_weft_solid_guest_failure_t,
        ) callconv(.c) bool {
            return computeWith(&solid, inputs, ret, err);
        }
    };
    @export(&exports.describe, .{ .name = "exports_weft_solid_guest_describe" });
    @export(&exports.compute, .{ .name = "exports_weft_solid_guest_compute" });
}

// --- the wire ---
// What an export returns is freed by the bindings' post-return with free(), so it is
// all malloc'd here; what an import is given is only borrowed; what an import returns
// and what compute receives belong to us and are freed with the bindings' *_free.

fn borrow(s: []const u8) c.solid_string_t {
    return .{ .ptr = @constCast(s.ptr), .len = s.len };
}

fn view(s: c.solid_string_t) []const u8 {
    return if (s.len == 0) "" else s.ptr[0..s.len];
}

fn alloc(comptime T: type, n: usize) [*c]T {
    if (n == 0) return null;
    const p = std.c.malloc(n * @sizeOf(T)) orelse @panic("out of memory");
    return @ptrCast(@alignCast(p));
}

/// A malloc'd copy, as the bindings free it (nothing for "").
fn own(s: []const u8) c.solid_string_t {
    if (s.len == 0) return .{};
    const p = alloc(u8, s.len);
    @memcpy(p[0..s.len], s);
    return .{ .ptr = p, .len = s.len };
}

fn ownOption(s: ?[]const u8) c.solid_option_string_t {
    return if (s) |text| .{ .is_some = true, .val = own(text) } else .{};
}

fn describeInto(solid: *const Solid, ret: *c.exports_weft_solid_guest_solid_def_t) void {
    ret.* = .{};
    ret.name = own(solid.name);
    ret.description = own(solid.description);
    ret.version = own(solid.version);
    const inputs = alloc(c.weft_solid_types_input_def_t, solid.inputs.len);
    for (solid.inputs, 0..) |d, i| inputs[i] = .{
        .name = own(d.name),
        .description = own(d.description),
        .type = @backingInt(d.type),
        .optional = d.optional,
        .multiple = d.multiple,
    };
    ret.inputs = .{ .ptr = inputs, .len = solid.inputs.len };
    const outputs = alloc(c.weft_solid_types_output_def_t, solid.outputs.len);
    for (solid.outputs, 0..) |d, i| outputs[i] = .{
        .name = own(d.name),
        .description = own(d.description),
        .type = @backingInt(d.type),
        .optional = d.optional,
    };
    ret.outputs = .{ .ptr = outputs, .len = solid.outputs.len };
    ret.config_schema = ownOption(solid.config_schema);
    const resources = alloc(c.weft_solid_types_resource_need_t, solid.resources.len);
    for (solid.resources, 0..) |r, i| resources[i] = .{ .name = own(r.name), .kind = @backingInt(r.kind) };
    ret.resources = .{ .ptr = resources, .len = solid.resources.len };
    const tags = alloc(c.solid_tuple2_string_string_t, solid.tags.len);
    for (solid.tags, 0..) |t, i| tags[i] = .{ .f0 = own(t[0]), .f1 = own(t[1]) };
    ret.tags = .{ .ptr = tags, .len = solid.tags.len };
}

fn fromWire(v: c.weft_solid_types_value_t) Value {
    return switch (v.tag) {
        c.WEFT_SOLID_TYPES_VALUE_BOOLEAN => .{ .boolean = v.val.boolean },
        c.WEFT_SOLID_TYPES_VALUE_INTEGER => .{ .integer = v.val.integer },
        c.WEFT_SOLID_TYPES_VALUE_FLOAT => .{ .float = v.val.float_ },
        c.WEFT_SOLID_TYPES_VALUE_TEXT => .{ .text = view(v.val.text) },
        c.WEFT_SOLID_TYPES_VALUE_BYTES => .{ .bytes = if (v.val.bytes.len == 0) "" else v.val.bytes.ptr[0..v.val.bytes.len] },
        c.WEFT_SOLID_TYPES_VALUE_JSON => .{ .json = view(v.val.json) },
        else => .null,
    };
}

/// The wire form of `v`: borrowing its data, or owning a malloc'd copy.
fn toWire(v: Value, comptime owned: bool) c.weft_solid_types_value_t {
    const str = if (owned) own else borrow;
    var w: c.weft_solid_types_value_t = .{};
    switch (v) {
        .null => w.tag = c.WEFT_SOLID_TYPES_VALUE_NULL,
        .boolean => |b| {
            w.tag = c.WEFT_SOLID_TYPES_VALUE_BOOLEAN;
            w.val = .{ .boolean = b };
        },
        .integer => |i| {
            w.tag = c.WEFT_SOLID_TYPES_VALUE_INTEGER;
            w.val = .{ .integer = i };
        },
        .float => |f| {
            w.tag = c.WEFT_SOLID_TYPES_VALUE_FLOAT;
            w.val = .{ .float_ = f };
        },
        .text => |s| {
            w.tag = c.WEFT_SOLID_TYPES_VALUE_TEXT;
            w.val = .{ .text = str(s) };
        },
        .bytes => |s| {
            const wire = str(s);
            w.tag = c.WEFT_SOLID_TYPES_VALUE_BYTES;
            w.val = .{ .bytes = .{ .ptr = wire.ptr, .len = wire.len } };
        },
        .json => |s| {
            w.tag = c.WEFT_SOLID_TYPES_VALUE_JSON;
            w.val = .{ .json = str(s) };
        },
    }
    return w;
}

/// Metadata on the wire, malloc'd (`owned`, for a returned failure) or allocated from
/// `arena` with borrowed strings (for an import).
fn metadataWire(entries: []const Entry, comptime owned: bool, arena: std.mem.Allocator) !c.weft_solid_types_list_metadata_entry_t {
    const str = if (owned) own else borrow;
    const list = if (owned) alloc(c.weft_solid_types_metadata_entry_t, entries.len) else (try arena.alloc(c.weft_solid_types_metadata_entry_t, entries.len)).ptr;
    for (entries, 0..) |entry, i| {
        var m: c.weft_solid_types_metadata_value_t = .{ .tag = @backingInt(std.meta.activeTag(entry[1])) };
        switch (entry[1]) {
            .text, .markdown, .url, .path, .json => |s| m.val = .{ .text = str(s) },
            .integer => |n| m.val = .{ .integer = n },
            .float => |f| m.val = .{ .float_ = f },
            .boolean => |b| m.val = .{ .boolean = b },
        }
        list[i] = .{ .label = str(entry[0]), .value = m };
    }
    return .{ .ptr = if (entries.len == 0) null else list, .len = entries.len };
}

const Named = struct { name: []const u8, value: Value };

// --- the context ---

/// What the host offers a solid while it computes.
pub const Context = struct {
    /// An arena for anything compute needs; freed when compute returns.
    allocator: std.mem.Allocator,
    solid: *const Solid,
    inputs: []const Named,
    outputs: std.ArrayList(Named) = .empty,
    failure: ?struct { message: []const u8, options: FailOptions } = null,

    // inputs

    /// The i-th value fed to `name`, or null.
    pub fn at(self: *const Context, name: []const u8, i: usize) ?Value {
        var left = i;
        for (self.inputs) |in| {
            if (!std.mem.eql(u8, in.name, name)) continue;
            if (left == 0) return in.value;
            left -= 1;
        }
        return null;
    }

    /// The first value fed to `name`, or null.
    pub fn input(self: *const Context, name: []const u8) ?Value {
        return self.at(name, 0);
    }

    /// How many values feed `name` (fan-in).
    pub fn count(self: *const Context, name: []const u8) usize {
        var n: usize = 0;
        for (self.inputs) |in| n += @intFromBool(std.mem.eql(u8, in.name, name));
        return n;
    }

    pub fn text(self: *const Context, name: []const u8) ?[]const u8 {
        return if (self.input(name)) |v| switch (v) {
            .text => |s| s,
            else => null,
        } else null;
    }

    pub fn bytes(self: *const Context, name: []const u8) ?[]const u8 {
        return if (self.input(name)) |v| switch (v) {
            .bytes => |s| s,
            else => null,
        } else null;
    }

    pub fn json(self: *const Context, name: []const u8) ?[]const u8 {
        return if (self.input(name)) |v| switch (v) {
            .json => |s| s,
            else => null,
        } else null;
    }

    pub fn integer(self: *const Context, name: []const u8) ?i64 {
        return if (self.input(name)) |v| switch (v) {
            .integer => |i| i,
            else => null,
        } else null;
    }

    /// A float input; an integer is widened.
    pub fn float(self: *const Context, name: []const u8) ?f64 {
        return if (self.input(name)) |v| switch (v) {
            .float => |f| f,
            .integer => |i| @floatFromInt(i),
            else => null,
        } else null;
    }

    pub fn boolean(self: *const Context, name: []const u8) ?bool {
        return if (self.input(name)) |v| switch (v) {
            .boolean => |b| b,
            else => null,
        } else null;
    }

    // outputs

    /// An integer for a float output is widened.
    fn widen(self: *const Context, name: []const u8, value: Value) Value {
        for (self.solid.outputs) |o| {
            if (std.mem.eql(u8, o.name, name) and o.type == .float and value == .integer)
                return .{ .float = @floatFromInt(value.integer) };
        }
        return value;
    }

    /// Sets output `name`, returned when compute returns (in declaration order).
    /// Setting it again replaces the value.
    pub fn set(self: *Context, name: []const u8, value: Value) !void {
        const copy: Named = .{ .name = try self.allocator.dupe(u8, name), .value = switch (self.widen(name, value)) {
            .text => |s| .{ .text = try self.allocator.dupe(u8, s) },
            .bytes => |s| .{ .bytes = try self.allocator.dupe(u8, s) },
            .json => |s| .{ .json = try self.allocator.dupe(u8, s) },
            else => |v| v,
        } };
        for (self.outputs.items) |*o| {
            if (std.mem.eql(u8, o.name, name)) {
                o.* = copy;
                return;
            }
        }
        try self.outputs.append(self.allocator, copy);
    }

    /// Produces output `name` now, so that the host records it at once. When the host
    /// refuses (undeclared, wrong type, already produced) it fails with its message.
    pub fn yield(self: *Context, name: []const u8, value: Value) !void {
        var wire_name = borrow(name);
        var wire = toWire(self.widen(name, value), false);
        var refusal: c.solid_string_t = .{};
        if (c.weft_solid_context_yield_output(&wire_name, &wire, &refusal)) return;
        defer c.solid_string_free(&refusal);
        return self.fail(try self.allocator.dupe(u8, view(refusal)), .{});
    }

    /// Fails the step: `return ctx.fail("bad rows", .{ .metadata = &.{...} });`.
    pub fn fail(self: *Context, message: []const u8, options: FailOptions) error{ Failed, OutOfMemory } {
        const metadata = try self.allocator.alloc(Entry, options.metadata.len);
        for (options.metadata, 0..) |entry, i| metadata[i] = .{ try self.allocator.dupe(u8, entry[0]), switch (entry[1]) {
            .text => |s| .{ .text = try self.allocator.dupe(u8, s) },
            .markdown => |s| .{ .markdown = try self.allocator.dupe(u8, s) },
            .url => |s| .{ .url = try self.allocator.dupe(u8, s) },
            .path => |s| .{ .path = try self.allocator.dupe(u8, s) },
            .json => |s| .{ .json = try self.allocator.dupe(u8, s) },
            else => |m| m,
        } };
        self.failure = .{
            .message = try self.allocator.dupe(u8, message),
            .options = .{ .retryable = options.retryable, .metadata = metadata },
        };
        return error.Failed;
    }

    // reports

    /// Records a data-quality check; a failed one does not fail the step.
    pub fn expectation(self: *Context, label: []const u8, success: bool, description: ?[]const u8, metadata: []const Entry) !void {
        var e: c.weft_solid_types_expectation_result_t = .{
            .success = success,
            .label = borrow(label),
            .description = if (description) |d| .{ .is_some = true, .val = borrow(d) } else .{},
            .metadata = try metadataWire(metadata, false, self.allocator),
        };
        c.weft_solid_context_report_expectation(&e);
    }

    /// Records that the solid produced or updated an asset such as a table or a file.
    pub fn materialization(self: *Context, asset_key: []const u8, description: ?[]const u8, metadata: []const Entry) !void {
        var m: c.weft_solid_types_materialization_t = .{
            .asset_key = borrow(asset_key),
            .description = if (description) |d| .{ .is_some = true, .val = borrow(d) } else .{},
            .metadata = try metadataWire(metadata, false, self.allocator),
        };
        c.weft_solid_context_report_materialization(&m);
    }

    // the context

    /// Records a message in the run's event log. Formatting that runs out of memory
    /// logs the format string itself.
    pub fn log(self: *Context, level: Level, comptime format: []const u8, args: anytype) void {
        var message = borrow(std.fmt.allocPrint(self.allocator, format, args) catch format);
        c.weft_solid_context_log(@backingInt(level), &message);
    }
    pub fn debug(self: *Context, comptime format: []const u8, args: anytype) void {
        self.log(.debug, format, args);
    }
    pub fn info(self: *Context, comptime format: []const u8, args: anytype) void {
        self.log(.info, format, args);
    }
    pub fn warn(self: *Context, comptime format: []const u8, args: anytype) void {
        self.log(.warn, format, args);
    }
    pub fn err(self: *Context, comptime format: []const u8, args: anytype) void {
        self.log(.@"error", format, args);
    }

    /// Writes to the step's stdout compute log (unbuffered).
    pub fn print(self: *Context, comptime format: []const u8, args: anytype) !void {
        try writeAll(1, try std.fmt.allocPrint(self.allocator, format, args));
    }

    /// Writes to the step's stderr compute log (unbuffered).
    pub fn eprint(self: *Context, comptime format: []const u8, args: anytype) !void {
        try writeAll(2, try std.fmt.allocPrint(self.allocator, format, args));
    }

    fn kept(self: *Context, s: *c.solid_string_t) ![]const u8 {
        defer c.solid_string_free(s);
        return self.allocator.dupe(u8, view(s.*));
    }

    pub fn runId(self: *Context) ![]const u8 {
        var s: c.solid_string_t = .{};
        c.weft_solid_context_run_id(&s);
        return self.kept(&s);
    }

    pub fn stepKey(self: *Context) ![]const u8 {
        var s: c.solid_string_t = .{};
        c.weft_solid_context_step_key(&s);
        return self.kept(&s);
    }

    /// 1 for the first attempt, 2 for the first retry, ...
    pub fn attempt(_: *Context) u32 {
        return c.weft_solid_context_attempt();
    }

    /// The partition this run computes, or null.
    pub fn partitionKey(self: *Context) !?[]const u8 {
        var s: c.solid_string_t = .{};
        if (!c.weft_solid_context_partition_key(&s)) return null;
        return try self.kept(&s);
    }

    /// The config as a JSON document, validated against the schema, defaults filled in.
    pub fn config(self: *Context) ![]const u8 {
        var s: c.solid_string_t = .{};
        c.weft_solid_context_config(&s);
        return self.kept(&s);
    }

    /// The config parsed into `T` with std.json (unknown fields ignored).
    pub fn configAs(self: *Context, comptime T: type) !T {
        return std.json.parseFromSliceLeaky(T, self.allocator, try self.config(), .{ .ignore_unknown_fields = true });
    }
};

/// A panic handler for solids: `pub const panic = weft.panic;` in the solid's file. It
/// writes the message to stderr (the step's compute log) and traps, which fails the
/// step; Zig's default handler would pull most of WASI into the module for stack traces
/// and double the component's size.
pub const panic = std.debug.FullPanic(panicked);

fn panicked(message: []const u8, _: ?usize) noreturn {
    writeAll(2, "panic: ") catch {};
    writeAll(2, message) catch {};
    writeAll(2, "\n") catch {};
    @trap();
}

fn writeAll(fd: c_int, data: []const u8) !void {
    var rest = data;
    while (rest.len > 0) {
        const n = std.c.write(fd, rest.ptr, rest.len);
        if (n <= 0) return error.WriteFailed;
        rest = rest[@intCast(n)..];
    }
}

// --- compute ---

fn computeWith(
    solid: *const Solid,
    inputs: *c.exports_weft_solid_guest_list_named_value_t,
    ret: *c.exports_weft_solid_guest_list_named_value_t,
    err: *c.exports_weft_solid_guest_failure_t,
) bool {
    var arena = std.heap.ArenaAllocator.init(std.heap.c_allocator);
    defer arena.deinit();
    defer c.exports_weft_solid_guest_list_named_value_free(inputs);
    const a = arena.allocator();

    const received = if (inputs.len == 0) &.{} else inputs.ptr[0..inputs.len];
    const named = a.alloc(Named, received.len) catch return failWith(err, "OutOfMemory", .{});
    for (received, named) |r, *n| n.* = .{ .name = view(r.name), .value = fromWire(r.value) };

    var ctx: Context = .{ .allocator = a, .solid = solid, .inputs = named };
    if (solid.compute(&ctx)) |_| {
        if (ctx.failure == null) {
            // Declared outputs first, in declaration order, then the rest (which the
            // host refuses by name); malloc'd, for post-return to free.
            const list = alloc(c.exports_weft_solid_guest_named_value_t, ctx.outputs.items.len);
            var n: usize = 0;
            for (solid.outputs) |o| {
                for (ctx.outputs.items) |item| {
                    if (!std.mem.eql(u8, item.name, o.name)) continue;
                    list[n] = .{ .name = own(item.name), .value = toWire(item.value, true) };
                    n += 1;
                }
            }
            for (ctx.outputs.items) |item| {
                if (declared(solid, item.name)) continue;
                list[n] = .{ .name = own(item.name), .value = toWire(item.value, true) };
                n += 1;
            }
            ret.* = .{ .ptr = list, .len = n };
            return true;
        }
    } else |e| {
        if (e != error.Failed or ctx.failure == null) return failWith(err, @errorName(e), .{});
    }
    const f = ctx.failure.?;
    return failWith(err, f.message, f.options);
}

fn declared(solid: *const Solid, name: []const u8) bool {
    for (solid.outputs) |o| if (std.mem.eql(u8, o.name, name)) return true;
    return false;
}

fn failWith(err: *c.exports_weft_solid_guest_failure_t, message: []const u8, options: FailOptions) bool {
    err.* = .{
        .message = own(message),
        .retryable = options.retryable,
        .metadata = metadataWire(options.metadata, true, undefined) catch unreachable,
    };
    return false;
}

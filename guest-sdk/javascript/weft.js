/**
 * Write weft solids in JavaScript.
 *
 * A solid is one ES module that declares its inputs and outputs and a compute function:
 *
 *     import { defineSolid } from "./weft.js";
 *
 *     export const solid = defineSolid({
 *       name: "salutation",
 *       description: "Extends a greeting.",
 *       inputs: { greeting: { type: "text", description: "The greeting to extend" } },
 *       outputs: { result: "text" },
 *     }, (ctx, { greeting }) => {
 *       ctx.info(`extending ${greeting}`);
 *       return `${greeting} Dagster!`;
 *     });
 *
 * `compute(ctx, inputs)` gets the Context and an object with one property per fed input
 * (an unfed optional input is `undefined`; a `multiple` input is always an array, in
 * manifest order). With one declared output it returns that output's value; with several
 * it returns an object keyed by output name (a key left out, or `undefined`, is not
 * produced). It may be `async`. Throw `new Failure(message, {retryable, metadata})` to fail
 * the step; any other exception is a panic: its message and stack go to stderr and the
 * step traps.
 *
 * An input or output spec is a type name (`"text"`) or `{type, description, optional}`
 * (inputs also `multiple`); `type` defaults to `"any"`. `weft build` turns the module into
 * a WebAssembly component with componentize-js (SpiderMonkey); weft writes this file
 * beside it, so import it as `./weft.js`.
 *
 * | weft type | JavaScript value in                       | JavaScript value out            |
 * |-----------|-------------------------------------------|---------------------------------|
 * | null      | `null`                                    | `null`                          |
 * | boolean   | `boolean`                                 | `boolean`                       |
 * | integer   | `number` (a `BigInt` past 2^53 - 1)       | an integral `number`, `BigInt`  |
 * | float     | `number`                                  | `number`                        |
 * | text      | `string`                                  | `string`                        |
 * | bytes     | `Uint8Array`                              | `Uint8Array`, `ArrayBuffer`     |
 * | json      | the parsed value (`JSON.parse`)           | any value (`JSON.stringify`)    |
 *
 * A `number` sent to an `any` output or as metadata is an integer when it is integral
 * (`7.0 === 7` in JavaScript), else a float; a `float` output always gets a float. Values
 * for a `json` output are stringified whatever they are; for other outputs an object or
 * array is sent as json. Metadata maps the same way, with `Url`, `Markdown` and `Path` to
 * mark text, and any object as json.
 */

import * as context from "weft:solid/context@0.1.0";
import * as kv from "weft:solid/key-value@0.1.0";
import * as sql from "weft:solid/sql@0.1.0";
import * as secrets from "weft:solid/secrets@0.1.0";

const TYPES = ["any", "nothing", "boolean", "integer", "float", "text", "bytes", "json"];
const KINDS = { sql: "sql", "key-value": "key-value", key_value: "key-value", keyValue: "key-value",
  http: "http", secrets: "secrets" };
const LEVELS = ["trace", "debug", "info", "warn", "error"];

/** Throw it to fail the step with a message, metadata and whether a retry may help. */
export class Failure extends Error {
  constructor(message, { retryable = false, metadata = {} } = {}) {
    super(message);
    this.name = "Failure";
    this.retryable = retryable;
    this.metadata = metadata;
  }
}

/** A resource call failed: `kind` is `"denied"`, `"invalid"` or `"unavailable"`. */
export class ResourceError extends Error {
  constructor(kind, message) {
    super(kind === "invalid" ? message : `${kind}: ${message}`);
    this.name = "ResourceError";
    this.kind = kind;
    this.detail = message;
  }
}

class Marked {
  constructor(value) { this.value = String(value); }
  toString() { return this.value; }
}
/** A metadata value shown as a link. */
export class Url extends Marked {}
/** A metadata value rendered as Markdown. */
export class Markdown extends Marked {}
/** A metadata value naming a file. */
export class Path extends Marked {}

// --- values ---

const isBytes = (v) => v instanceof Uint8Array || v instanceof ArrayBuffer || ArrayBuffer.isView(v);
const asBytes = (v) => v instanceof Uint8Array ? v
  : v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
const MAX = 2n ** 63n - 1n;
const MIN = -(2n ** 63n);

/** A number from the host's s64 or u64: exact as a number when it can be, else a BigInt. */
function fromInt(n) {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

function toInt(n, what) {
  const big = typeof n === "bigint" ? n : BigInt(n);
  if (big < MIN || big > MAX) throw new Failure(`${what}: ${n} does not fit a 64-bit integer`);
  return big;
}

function json(value, what) {
  const text = JSON.stringify(value, (_, v) => {
    if (typeof v !== "bigint") return v;
    if (Number.isSafeInteger(Number(v))) return Number(v);
    throw new Failure(`${what}: the BigInt ${v} does not fit a JSON number exactly`);
  });
  if (text === undefined) throw new Failure(`${what}: ${typeof value} is not JSON`);
  return text;
}

function fromWit({ tag, val }) {
  switch (tag) {
    case "null": return null;
    case "integer": return fromInt(val);
    case "json": return JSON.parse(val);
    default: return val;
  }
}

function toWit(value, type, what) {
  if (type === "json") return { tag: "json", val: json(value, what) };
  if (value === null || value === undefined) return { tag: "null" };
  switch (typeof value) {
    case "boolean": return { tag: "boolean", val: value };
    case "bigint": return { tag: "integer", val: toInt(value, what) };
    case "number":
      return type !== "float" && Number.isInteger(value)
        ? { tag: "integer", val: toInt(value, what) } : { tag: "float", val: value };
    case "string": return { tag: "text", val: value };
  }
  if (isBytes(value)) return { tag: "bytes", val: asBytes(value) };
  return { tag: "json", val: json(value, what) };
}

function metadata(entries) {
  const pairs = entries instanceof Map ? [...entries] : Object.entries(entries ?? {});
  return pairs.map(([label, v]) => ({ label, value: metadataValue(v, label) }));
}

function metadataValue(v, label) {
  if (v instanceof Url) return { tag: "url", val: v.value };
  if (v instanceof Markdown) return { tag: "markdown", val: v.value };
  if (v instanceof Path) return { tag: "path", val: v.value };
  switch (typeof v) {
    case "string": return { tag: "text", val: v };
    case "boolean": return { tag: "boolean", val: v };
    case "bigint": return { tag: "integer", val: toInt(v, `metadata \`${label}\``) };
    case "number":
      return Number.isInteger(v) && Number.isSafeInteger(v)
        ? { tag: "integer", val: BigInt(v) } : { tag: "float", val: v };
  }
  return { tag: "json", val: json(v ?? null, `metadata \`${label}\``) };
}

// --- the context ---

/** What the host offers a solid while it computes. */
export class Context {
  #config;

  /** Records a log message at `level`: trace, debug, info, warn or error. */
  log(level, message) {
    if (!LEVELS.includes(level)) throw new TypeError(`unknown log level ${level}; expected one of ${LEVELS}`);
    context.log(level, String(message));
  }
  trace(message) { this.log("trace", message); }
  debug(message) { this.log("debug", message); }
  info(message) { this.log("info", message); }
  warn(message) { this.log("warn", message); }
  error(message) { this.log("error", message); }

  /** The id of the run. */
  get runId() { return context.runId(); }
  /** The step's key: the solid's alias in the pipeline. */
  get stepKey() { return context.stepKey(); }
  /** 1 for the first attempt, 2 for the first retry, ... */
  get attempt() { return context.attempt(); }
  /** The partition this run computes, or `null` when the pipeline is not partitioned. */
  get partitionKey() { return context.partitionKey() ?? null; }
  /** The step's config, validated against the solid's schema, defaults filled in. */
  get config() { return (this.#config ??= JSON.parse(context.config())); }

  /** Produces output `name` now, so that it is recorded at once. */
  yieldOutput(name, value) {
    const output = registered?.outputs.find((o) => o.name === name);
    try {
      context.yieldOutput(name, toWit(value, output?.type ?? "any", `output \`${name}\``));
    } catch (e) {
      throw hasPayload(e) ? new Failure(String(e.payload)) : e;
    }
  }

  /** Records a data-quality check (Dagster's ExpectationResult); a failed one does not fail the step. */
  expectation(label, success, description, meta) {
    context.reportExpectation({ success: Boolean(success), label, description: description ?? undefined,
      metadata: metadata(meta) });
  }

  /** Records that the solid produced or updated an asset (Dagster's AssetMaterialization). */
  materialization(assetKey, description, meta) {
    context.reportMaterialization({ assetKey, description: description ?? undefined, metadata: metadata(meta) });
  }
}

// --- resources ---

const hasPayload = (e) => e !== null && typeof e === "object" && Object.hasOwn(e, "payload");

function call(f, ...args) {
  try {
    return f(...args);
  } catch (e) {
    if (hasPayload(e) && e.payload?.tag) throw new ResourceError(e.payload.tag, e.payload.val);
    throw e;
  }
}

/** A key-value store resource, by the name the mode binds it under. Values are bytes. */
export class KeyValue {
  constructor(name) { this.name = name; }
  /** The value of `key` as a Uint8Array, or `null`. */
  get(key) { return call(kv.get, this.name, key) ?? null; }
  /** The value of `key` decoded as UTF-8, or `null`. */
  getText(key) { const v = this.get(key); return v === null ? null : new TextDecoder().decode(v); }
  /** Sets `key` to `value` (a string is stored as UTF-8). */
  set(key, value) {
    call(kv.set, this.name, key, typeof value === "string" ? new TextEncoder().encode(value) : asBytes(value));
  }
  /** Removes `key`; true when it existed. */
  delete(key) { return call(kv.delete, this.name, key); }
  /** The keys that start with `prefix`, in byte order. */
  keys(prefix = "") { return call(kv.keys, this.name, prefix); }
  /** Adds `delta` to the integer at `key` (0 when absent) atomically; the new value. */
  increment(key, delta = 1) { return fromInt(call(kv.increment, this.name, key, toInt(delta, "delta"))); }
}

function sqlValue(v) {
  if (v === null || v === undefined) return { tag: "null" };
  switch (typeof v) {
    case "boolean": return { tag: "boolean", val: v };
    case "bigint": return { tag: "integer", val: toInt(v, "parameter") };
    case "number": return Number.isInteger(v) ? { tag: "integer", val: toInt(v, "parameter") }
      : { tag: "float", val: v };
    case "string": return { tag: "text", val: v };
  }
  if (isBytes(v)) return { tag: "bytes", val: asBytes(v) };
  return { tag: "text", val: String(v) };
}

/** A SQL database resource. Parameters are `$1`, `$2`, ... on every backend. */
export class Sql {
  constructor(name) { this.name = name; }
  /** The rows, each an object from column name to value. */
  query(statement, ...params) {
    const { columns, rows } = call(sql.query, this.name, statement, params.map(sqlValue));
    return rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, fromWit(row[i])])));
  }
  /** Runs a statement; how many rows it changed. */
  execute(statement, ...params) { return fromInt(call(sql.execute, this.name, statement, params.map(sqlValue))); }
  /** `statements`: a list of `[sql, [params]]`; all take effect or none. How many rows each changed. */
  transaction(statements) {
    const list = statements.map(([text, params = []]) => ({ sql: text, params: params.map(sqlValue) }));
    return Array.from(call(sql.transaction, this.name, list), fromInt);
  }
}

/** A secrets resource. The host masks the values in logs and failures. */
export class Secrets {
  constructor(name) { this.name = name; }
  get(key) { return call(secrets.get, this.name, key); }
}

// --- the solid ---

const KEYS = ["type", "description", "optional", "multiple"];

function spec(value, what, keys) {
  const s = typeof value === "string" ? { type: value } : { ...value };
  const unknown = Object.keys(s).filter((k) => !keys.includes(k));
  if (unknown.length) throw new TypeError(`${what}: unknown key ${unknown[0]}; expected ${keys.join(", ")}`);
  s.type ??= "any";
  if (!TYPES.includes(s.type)) throw new TypeError(`${what}: unknown type ${s.type}; expected one of ${TYPES}`);
  return s;
}

let registered = null;

/**
 * Declares this component's solid: `definition` is `{name, description, version, inputs,
 * outputs, config, resources, tags}` (only `name` is required; `outputs` defaults to one
 * `result` of any type), and `compute(ctx, inputs)` runs it. Returns the definition.
 */
export function defineSolid(definition, compute) {
  if (registered) throw new Error(`a component has one solid, and it is ${registered.name}`);
  const { name, description = "", version = "1", inputs = {}, outputs = { result: "any" }, config,
    resources = {}, tags = {} } = definition;
  if (typeof name !== "string" || !name) throw new TypeError("defineSolid: `name` is required");
  if (typeof compute !== "function") throw new TypeError("defineSolid: the second argument is the compute function");
  const solid = {
    name, description, version: String(version), compute,
    inputs: Object.entries(inputs).map(([n, v]) => {
      const s = spec(v, `input \`${n}\``, KEYS);
      return { name: n, description: s.description ?? "", type: s.type, optional: Boolean(s.optional),
        multiple: Boolean(s.multiple) };
    }),
    outputs: Object.entries(outputs).map(([n, v]) => {
      const s = spec(v, `output \`${n}\``, KEYS.slice(0, 3));
      return { name: n, description: s.description ?? "", type: s.type, optional: Boolean(s.optional) };
    }),
    configSchema: config === undefined ? undefined : typeof config === "string" ? config : JSON.stringify(config),
    resources: Object.entries(resources).map(([n, kind]) => {
      if (!KINDS[kind]) throw new TypeError(`resource \`${n}\`: unknown kind ${kind}; expected sql, key-value, http or secrets`);
      return { name: n, kind: KINDS[kind] };
    }),
    tags: Object.entries(tags).map(([k, v]) => [k, String(v)]),
  };
  registered = Object.freeze(solid);
  return solid;
}

async function run(solid, raw) {
  const inputs = {};
  for (const input of solid.inputs) if (input.multiple) inputs[input.name] = [];
  for (const { name, value } of raw) {
    if (Array.isArray(inputs[name])) inputs[name].push(fromWit(value));
    else inputs[name] = fromWit(value);
  }
  const returned = await solid.compute(new Context(), inputs);
  const produced = solid.outputs.length === 1 ? { [solid.outputs[0].name]: returned } : returned ?? {};
  const result = [];
  for (const output of solid.outputs) {
    let value = produced[output.name];
    if (output.type === "nothing" && !output.optional && solid.outputs.length === 1) value = null;
    if (value === undefined || (value === null && output.optional)) continue;
    result.push({ name: output.name, value: toWit(value, output.type, `output \`${output.name}\``) });
  }
  return result;
}

const err = (message, retryable, meta) => ({ tag: "err", val: { message, retryable, metadata: meta } });

function describe() {
  const { compute: _, ...definition } = registered;
  return definition;
}

async function compute(raw) {
  try {
    return await run(registered, raw);
  } catch (e) {
    if (e instanceof Failure) return err(e.message, Boolean(e.retryable), metadata(e.metadata));
    if (e instanceof ResourceError) return err(e.message, e.kind === "unavailable", []);
    // Anything else is a bug: report it the way a Rust guest's panic hook does, which
    // the host reads back as the step's `panic` message, then trap.
    // (`instanceof Error` misses errors from the bindings, which live in another realm.)
    const error = Object.prototype.toString.call(e) === "[object Error]";
    const stack = error ? String(e.stack ?? "") : "";
    const frames = [...stack.matchAll(/@(.*:\d+:\d+)$/gm)].map((m) => m[1]);
    const where = frames.find((f) => !f.includes("initializer.js")) ?? frames[0] ?? "an unknown location";
    const what = error ? `${e.name}: ${e.message}` : `uncaught ${String(e)}`;
    console.error(`the solid panicked at ${where}:\n${what}\nnote: JavaScript stack:\n${stack}`);
    throw e;
  }
}

function solidDefined() {
  if (!registered) throw new Error("the module defines no solid: call defineSolid in it");
}

/**
 * The contract's export (`weft:solid/guest`); weft's generated entry module re-exports it.
 * componentize-js reads its functions once the modules have run, at build time, so a
 * module that defines no solid fails to build.
 */
export const guest = {
  get describe() { solidDefined(); return describe; },
  get compute() { solidDefined(); return compute; },
};

// The JavaScript twin of tests/solids/conformance: every part of the contract, both ways.

import { defineSolid, Failure, Url } from "./weft.js";

const SCHEMA = {
  type: "object",
  properties: {
    shout: { type: "boolean", default: false },
    fail: { type: "boolean", default: false, description: "Fail with metadata instead" },
  },
};

const utf8 = (text) => new TextEncoder().encode(text);

export const solid = defineSolid({
  name: "conformance",
  description: "Describes a text in every value type there is.",
  version: "3",
  config: SCHEMA,
  inputs: {
    text: { type: "text", description: "The text to describe" },
    scale: { type: "float", description: "Multiplies the length", optional: true },
    extras: { type: "any", description: "Anything else", optional: true, multiple: true },
  },
  outputs: {
    length: { type: "integer", description: "The text's length in bytes" },
    scaled: "float",
    summary: "json",
    raw: "bytes",
    flag: "boolean",
    nothing: { type: "text", description: "Never produced", optional: true },
    echo: { type: "text", description: "The text, shouted if the config says so" },
  },
  tags: { team: "weft", kind: "test" },
}, (ctx, { text, scale, extras }) => {
  const config = ctx.config;
  if (config.fail) {
    throw new Failure("asked to fail", { retryable: true, metadata: { language: "javascript", extras: extras.length } });
  }
  const shown = config.shout ? text.toUpperCase() : text;
  ctx.yieldOutput("echo", shown);
  ctx.info(`run ${ctx.runId} step ${ctx.stepKey}`);
  ctx.warn(`partition ${ctx.partitionKey ?? "None"}`);
  console.log(`to stdout: ${shown}`);
  console.error(`to stderr: ${extras.length} extras`);
  const length = utf8(text).length;
  ctx.expectation("not_empty", text.length > 0, "the text has at least one byte", { length });
  ctx.materialization("tests/conformance", "a pretend table", { rows: 3, url: new Url("https://example.com/t") });
  return {
    length,
    scaled: length * (scale ?? 1.0),
    summary: { words: text.split(/\s+/).filter(Boolean).length, extras: extras.length, shout: config.shout },
    raw: utf8(text),
    flag: true,
    nothing: null,
  };
});

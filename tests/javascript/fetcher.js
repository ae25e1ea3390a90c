// Fetches a URL through the step's `api` resource with the standard fetch(): the
// JavaScript twin of tests/solids/http-probe.

import { defineSolid, Failure } from "./weft.js";

export const solid = defineSolid({
  name: "fetcher",
  description: "Fetches the configured URL and returns its status and body.",
  config: { type: "object", properties: { url: { type: "string" } }, required: ["url"] },
  resources: { api: "http" },
  outputs: { response: { type: "text", description: "`<status> <body>`" } },
}, async (ctx) => {
  let response;
  try {
    response = await fetch(ctx.config.url);
  } catch (error) {
    throw new Failure(`fetching ${ctx.config.url} failed: ${error.message}`);
  }
  return `${response.status} ${await response.text()}`;
});

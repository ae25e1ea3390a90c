// {{name}}: greets whoever the config names.

import { defineSolid } from "./weft.js";

export const solid = defineSolid({
  name: "{{name}}",
  description: "Greets whoever the config names.",
  config: {
    type: "object",
    properties: { name: { type: "string", default: "world", description: "Who to greet" } },
  },
  outputs: { greeting: { type: "text", description: "The greeting" } },
}, (ctx) => {
  const name = ctx.config.name;
  ctx.info(`greeting ${name}`);
  return `Hello, ${name}!`;
});

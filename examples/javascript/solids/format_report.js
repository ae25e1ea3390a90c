// Formats per-region sales totals (from any upstream language) as a text report.

import { defineSolid } from "./weft.js";

export const solid = defineSolid({
  name: "format_report",
  description: "Formats sales totals as a text report.",
  inputs: {
    totals: { type: "json", description: "Total sales by region name" },
    count: { type: "integer", description: "How many rows the totals summed" },
  },
  outputs: { report: { type: "text", description: "The report, one line per region" } },
}, (ctx, { totals, count }) => {
  const regions = Object.keys(totals).sort();
  ctx.info(`reporting ${regions.length} regions`);
  return [
    `Sales report: ${count} rows, ${regions.length} regions`,
    ...regions.map((region) => `  ${region}: ${totals[region]}`),
  ].join("\n");
});

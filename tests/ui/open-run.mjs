// Times how long Chromium takes to open a run page of the web UI: from navigation until
// the run's status, its graph and the first rows of its event log are visible. Used by
// `cargo bench -p weft-benches --bench ui` on a run of 10,000 steps and 100,000 log lines.
//
//   node tests/ui/open-run.mjs --url http://127.0.0.1:PORT --run RUNID [--repeat 5] [--screenshot FILE]
//
// Prints one JSON line: {"first_ms", "median_ms", "samples_ms", "in_app_median_ms",
// "in_app_samples_ms"}. Each
// sample opens the page in a new browser context (no cache, no state), and is measured in
// the page itself: from the navigation's start to the first frame that shows all three.
// Then the same page is opened from the runs list in the same tab (`in_app`), as a user
// clicking a run does.

import { CHROMIUM, CHROMIUM_ARGS, requirePlaywright } from './harness.mjs';

const args = { url: null, run: null, repeat: 5, screenshot: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const [flag, value] = [argv[i], argv[i + 1]];
  if (flag === '--url') args.url = value.replace(/\/+$/, '');
  else if (flag === '--run') args.run = value;
  else if (flag === '--repeat') args.repeat = Number(value);
  else if (flag === '--screenshot') args.screenshot = value;
  else { console.error(`open-run: unknown argument ${flag}`); process.exit(2); }
}
if (!args.url || !args.run) { console.error('open-run: --url and --run are required'); process.exit(2); }

const { chromium } = await requirePlaywright('open-run');
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const samples = [];
const inApp = [];
try {
  for (let i = 0; i < args.repeat; i++) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    // Timed inside the page, checked on every frame: from the navigation's start (the
    // document's time origin) to the first frame where all three are visible.
    await page.goto(`${args.url}/#/runs/${args.run}`, { waitUntil: 'commit' });
    const opened = await page.waitForFunction(() => {
      const visible = (selector) => {
        const element = document.querySelector(selector);
        return element !== null && element.getClientRects().length > 0 && getComputedStyle(element).visibility !== 'hidden';
      };
      const ready = ['[data-testid=run-status]', '[data-testid=run-dag]', '[data-testid=event-row]'].every(visible);
      return ready ? performance.now() : false;
    }, null, { polling: 'raf', timeout: 30_000 });
    samples.push(await opened.jsonValue());
    // The way a user usually gets there: from another page of the app, in the same tab.
    await page.goto(`${args.url}/#/runs`);
    await page.locator('[data-testid=runs-table]').first().waitFor({ state: 'visible', timeout: 30_000 });
    const navigated = await page.evaluate(async (run) => {
      const start = performance.now();
      location.hash = `#/runs/${run}`;
      const visible = (selector) => {
        const element = document.querySelector(selector);
        return element !== null && element.getClientRects().length > 0;
      };
      await new Promise((resolve) => {
        const check = () => (['[data-testid=run-status]', '[data-testid=run-dag]', '[data-testid=event-row]'].every(visible)
          ? resolve() : requestAnimationFrame(check));
        requestAnimationFrame(check);
      });
      return performance.now() - start;
    }, args.run);
    inApp.push(navigated);
    if (args.screenshot && i === args.repeat - 1) await page.screenshot({ path: args.screenshot, fullPage: false });
    await context.close();
  }
} finally {
  await browser.close();
}
const round = (ms) => Math.round(ms * 10) / 10;
const median = (list) => round([...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]);
console.log(JSON.stringify({
  first_ms: round(samples[0]), median_ms: median(samples), samples_ms: samples.map(round),
  in_app_median_ms: median(inApp), in_app_samples_ms: inApp.map(round),
}));

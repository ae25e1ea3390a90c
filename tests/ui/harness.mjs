// What the browser tests share (e2e.mjs, partitions.mjs; open-run.mjs takes its browser
// from here too): their arguments, Debian's Chromium driven by playwright-core from weft's
// cache, the checks that report "ok: STEP: ..." as they pass and fail with what was
// expected and what was seen, the page's errors on the side, screenshots, and running a
// scenario to its report and exit status. A test does
//
//   const { args, context, page, tid, hash } = await setUp({ name: 'e2e', synopsis: '...' });
//   async function scenario() { await step('a. ...', async () => { ... ok('...'); }); }
//   await run(scenario);
//
// One test per process: setUp keeps the test's name, screenshot directory, browser and
// the page a failure is reported on in this module. Importing it does nothing by itself.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TIMEOUT = Math.min(Number(process.env.E2E_TIMEOUT) || 30_000, 30_000); // every wait; E2E_TIMEOUT shortens it
export const FINAL = ['SUCCESS', 'FAILURE', 'CANCELED', 'INTERRUPTED'];
export const CHROMIUM = '/usr/bin/chromium';
// The machine's network is closed: without these Chromium floods refused connections.
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// ---- the browser ----------------------------------------------------------------------

// playwright-core lives in weft's cache, where scripts/browser installs it, and drives
// Debian's Chromium; without either, says so as `name` and exits 2.
export async function requirePlaywright(name) {
  const cache = process.env.WEFT_UI_TESTS
    || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'weft', 'ui-tests');
  let playwright;
  try {
    playwright = createRequire(path.join(cache, 'package.json'))('playwright-core');
  } catch {
    try {
      playwright = await import('playwright-core');
    } catch {
      console.error(`${name}: playwright-core is not in ${cache}/node_modules: run scripts/browser`);
      process.exit(2);
    }
  }
  if (!fs.existsSync(CHROMIUM)) {
    console.error(`${name}: ${CHROMIUM} is missing: run scripts/browser`);
    process.exit(2);
  }
  return playwright;
}

// ---- arguments -------------------------------------------------------------------------

// --url and --screenshots, and `flags` (e.g. {'--big-run': 'bigRun'}: a flag with a value,
// and its key in the result, null when not given). Usage errors exit 2.
function parseArgs(name, synopsis, flags) {
  const usage = (message) => {
    if (message) console.error(`${name}: ${message}`);
    console.error(`usage: node tests/ui/${name}.mjs ${synopsis}`);
    process.exit(2);
  };
  const args = { url: null, screenshots: null, ...Object.fromEntries(Object.values(flags).map((key) => [key, null])) };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    if (flag === '--url') args.url = value().replace(/\/+$/, '');
    else if (flag === '--screenshots') args.screenshots = value();
    else if (Object.hasOwn(flags, flag)) args[flags[flag]] = value();
    else if (flag === '--help' || flag === '-h') usage();
    else usage(`unknown argument ${argv[i]}`);
  }
  if (!args.url) usage('--url is required');
  if (!args.screenshots) usage('--screenshots is required');
  return args;
}

// ---- checks ----------------------------------------------------------------------------

export class CheckFailed extends Error {}
export let currentStep = '(start)';
export const fail = (message) => { throw new CheckFailed(message); };
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const show = (value) => (typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value));
export const ok = (what) => console.log(`ok: ${currentStep}: ${what}`);
export const info = (what) => console.log(`   ${currentStep}: ${what}`);

export async function step(name, body) {
  currentStep = name;
  await body();
}

// Polls `read` until `accept(value)` holds; else fails naming what was expected and the
// last value seen.
export async function until(read, accept, expected, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  let seen;
  for (;;) {
    try {
      seen = await read();
      if (accept(seen)) return seen;
    } catch (error) {
      seen = `(error: ${error.message.split('\n')[0]})`;
    }
    if (Date.now() > deadline) fail(`expected ${expected}; saw ${typeof seen === 'string' && seen.startsWith('(error') ? seen : show(seen)} after ${timeout} ms`);
    await sleep(100);
  }
}

// `what` is how the element reads in a message, e.g. `dag-node[data-step=check]`.
export async function visible(locator, what, timeout = TIMEOUT) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch {
    const count = await locator.count().catch(() => 0);
    fail(`expected ${what} to be visible; saw ${count === 0 ? 'no such element' : `${count} matching element(s), none visible`} after ${timeout} ms`);
  }
  return locator.first();
}

export async function attached(locator, what, timeout = TIMEOUT) {
  try {
    await locator.first().waitFor({ state: 'attached', timeout });
  } catch {
    fail(`expected ${what} to exist; saw no such element after ${timeout} ms`);
  }
  return locator.first();
}

export const attr = (locator, name) => locator.getAttribute(name, { timeout: 1000 });

export async function attrIs(locator, name, want, what, timeout = TIMEOUT) {
  const wants = Array.isArray(want) ? want : [want];
  return until(() => attr(locator, name), (v) => wants.includes(v),
    `${what} ${name}=${wants.map(show).join(' or ')}`, timeout);
}

// Picks the <option> whose value or text is `want` (case-insensitively).
export async function choose(select, want, what) {
  const options = await select.locator('option').evaluateAll((os) => os.map((o) => ({ value: o.value, text: o.textContent.trim() })));
  const index = options.findIndex((o) => o.value.toLowerCase() === want.toLowerCase() || o.text.toLowerCase() === want.toLowerCase());
  if (index < 0) fail(`expected ${what} to have an option ${show(want)}; saw options ${show(options.map((o) => o.value || o.text))}`);
  await select.selectOption({ index });
}

// ---- the test --------------------------------------------------------------------------

let testName;
let screenshots;
let browser;
let activePage; // the page a failure is reported on

export async function shot(page, name) {
  const file = path.join(screenshots, name);
  // From the top, or the sticky top bar lands mid-page in the full-page picture.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true, timeout: TIMEOUT });
  return file;
}

// What the page does wrong on the side: uncaught exceptions fail the test at the end,
// console errors and API errors are reported. Every API request is kept, with the step
// it was made in and, once it finished, how long it took (`ms`).
const pageErrors = [];
const consoleErrors = [];
const apiErrors = [];
export const apiRequests = [];
export function watch(page) {
  page.on('pageerror', (error) => pageErrors.push(`[${currentStep}] ${error.message.split('\n')[0]}`));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`[${currentStep}] ${message.text()}`);
  });
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/api/')) apiRequests.push({ step: currentStep, method: request.method(), url: request.url(), request });
  });
  page.on('requestfinished', (request) => {
    const entry = apiRequests.findLast((r) => r.request === request);
    const timing = request.timing();
    if (entry && timing.responseEnd >= 0) entry.ms = Math.round(timing.responseEnd);
  });
  page.on('response', (response) => {
    const url = new URL(response.url());
    if (url.pathname.startsWith('/api/') && response.status() >= 400) {
      apiErrors.push(`[${currentStep}] ${response.request().method()} ${url.pathname}${url.search} -> ${response.status()}`);
    }
  });
  return page;
}

// A failure from now on is reported on `page` (its URL, error banners, a screenshot).
export function reportOn(page) {
  activePage = page;
}

// Parses the arguments (`synopsis` is their usage line, `flags` what the test takes
// besides --url and --screenshots), launches Chromium and opens a watched page, the one
// failures are reported on. `tid` and `hash` read that page: an element by data-testid,
// the URL's fragment.
export async function setUp({ name, synopsis, flags = {} }) {
  testName = name;
  const args = parseArgs(name, synopsis, flags);
  screenshots = args.screenshots;
  fs.mkdirSync(screenshots, { recursive: true });
  const playwright = await requirePlaywright(name);
  browser = await playwright.chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: TIMEOUT,
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  context.setDefaultTimeout(TIMEOUT);
  context.setDefaultNavigationTimeout(TIMEOUT);
  const page = watch(await context.newPage());
  reportOn(page);
  return {
    args, browser, context, page,
    tid: (id) => page.getByTestId(id),
    hash: () => new URL(page.url()).hash,
  };
}

// Runs `scenario`: the first failed check stops it with the step, what was expected and
// what was seen (and a FAILED-*.png screenshot); then the page's errors on the side, the
// verdict, and the exit status, 1 on a failure or an uncaught exception in the page.
export async function run(scenario) {
  let failed = false;
  try {
    await scenario();
  } catch (error) {
    failed = true;
    const message = error instanceof CheckFailed ? error.message : (error.stack || String(error));
    console.error(`FAILED: ${currentStep}: ${message}`);
    console.error(`   at ${activePage.url()}`);
    const banners = await activePage.locator('[data-testid="error-banner"], [role="alert"]').filter({ visible: true })
      .allInnerTexts().catch(() => []);
    for (const text of banners) console.error(`   the page shows: ${text.replace(/\s+/g, ' ').slice(0, 300)}`);
    const name = `FAILED-${currentStep.replace(/[^a-z0-9]+/gi, '-').replace(/-+$/, '')}.png`;
    await activePage.screenshot({ path: path.join(screenshots, name), fullPage: true, timeout: 10_000 })
      .then(() => console.error(`   screenshot: ${path.join(screenshots, name)}`))
      .catch(() => {});
  }
  for (const [title, list] of [['uncaught exceptions in the page', pageErrors], ['console errors', consoleErrors], ['API errors', apiErrors]]) {
    if (list.length) console.error(`${title}:\n${list.slice(0, 20).map((l) => `   ${l}`).join('\n')}${list.length > 20 ? `\n   ... (${list.length})` : ''}`);
  }
  if (!failed && pageErrors.length) {
    failed = true;
    console.error('FAILED: the page threw uncaught exceptions (above)');
  }
  await browser.close();
  console.log(failed ? `${testName}: FAILED` : `${testName}: every check passed; screenshots in ${screenshots}`);
  process.exit(failed ? 1 : 0);
}

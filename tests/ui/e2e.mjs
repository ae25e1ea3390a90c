// The web UI's end-to-end test: drives Debian's Chromium with playwright-core through
// the UI of a running `weft ui tests/ui/weft.toml`, using only the data-testid hooks of
// the UI's contract, and takes a full-page screenshot of every page it visits.
//
//   scripts/browser                                   # once: Chromium, playwright-core
//   target/debug/weft ui tests/ui/weft.toml --port 3998 --db /tmp/e2e-db/weft.redb &
//   node tests/ui/e2e.mjs --url http://127.0.0.1:3998 --screenshots /tmp/e2e-shots \
//       [--big-run RUNID]
//
// Each scenario step prints "ok: ..." as it passes; the first failed check stops the test
// with the step, what was expected and what was seen (and a FAILED-*.png screenshot), and
// the exit status 1. Usage errors exit 2.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TIMEOUT = Math.min(Number(process.env.E2E_TIMEOUT) || 30_000, 30_000); // every wait; E2E_TIMEOUT shortens it
const BIG_RUN_BUDGET_MS = 1000;
const FINAL = ['SUCCESS', 'FAILURE', 'CANCELED', 'INTERRUPTED'];
const CHROMIUM = '/usr/bin/chromium';
// The machine's network is closed: without these Chromium floods refused connections.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// ---- arguments -----------------------------------------------------------------------

function usage(message) {
  if (message) console.error(`e2e: ${message}`);
  console.error('usage: node tests/ui/e2e.mjs --url http://127.0.0.1:PORT --screenshots DIR [--big-run RUNID]');
  process.exit(2);
}

const args = { url: null, screenshots: null, bigRun: null };
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    if (flag === '--url') args.url = value().replace(/\/+$/, '');
    else if (flag === '--screenshots') args.screenshots = value();
    else if (flag === '--big-run') args.bigRun = value();
    else if (flag === '--help' || flag === '-h') usage();
    else usage(`unknown argument ${argv[i]}`);
  }
  if (!args.url) usage('--url is required');
  if (!args.screenshots) usage('--screenshots is required');
}
fs.mkdirSync(args.screenshots, { recursive: true });

// playwright-core lives in weft's cache, where scripts/browser installs it.
const cache = process.env.WEFT_UI_TESTS
  || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'weft', 'ui-tests');
let playwright;
try {
  playwright = createRequire(path.join(cache, 'package.json'))('playwright-core');
} catch {
  try {
    playwright = await import('playwright-core');
  } catch {
    console.error(`e2e: playwright-core is not in ${cache}/node_modules: run scripts/browser`);
    process.exit(2);
  }
}
if (!fs.existsSync(CHROMIUM)) {
  console.error(`e2e: ${CHROMIUM} is missing: run scripts/browser`);
  process.exit(2);
}

// ---- checks --------------------------------------------------------------------------

class CheckFailed extends Error {}
let currentStep = '(start)';
const fail = (message) => { throw new CheckFailed(message); };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const show = (value) => (typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value));
const ok = (what) => console.log(`ok: ${currentStep}: ${what}`);
const info = (what) => console.log(`   ${currentStep}: ${what}`);

async function step(name, body) {
  currentStep = name;
  await body();
}

// Polls `read` until `accept(value)` holds; else fails naming what was expected and the
// last value seen.
async function until(read, accept, expected, timeout = TIMEOUT) {
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
async function visible(locator, what, timeout = TIMEOUT) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch {
    const count = await locator.count().catch(() => 0);
    fail(`expected ${what} to be visible; saw ${count === 0 ? 'no such element' : `${count} matching element(s), none visible`} after ${timeout} ms`);
  }
  return locator.first();
}

async function attached(locator, what, timeout = TIMEOUT) {
  try {
    await locator.first().waitFor({ state: 'attached', timeout });
  } catch {
    fail(`expected ${what} to exist; saw no such element after ${timeout} ms`);
  }
  return locator.first();
}

const attr = (locator, name) => locator.getAttribute(name, { timeout: 1000 });

async function attrIs(locator, name, want, what, timeout = TIMEOUT) {
  const wants = Array.isArray(want) ? want : [want];
  return until(() => attr(locator, name), (v) => wants.includes(v),
    `${what} ${name}=${wants.map(show).join(' or ')}`, timeout);
}

// Picks the <option> whose value or text is `want` (case-insensitively).
async function choose(select, want, what) {
  const options = await select.locator('option').evaluateAll((os) => os.map((o) => ({ value: o.value, text: o.textContent.trim() })));
  const index = options.findIndex((o) => o.value.toLowerCase() === want.toLowerCase() || o.text.toLowerCase() === want.toLowerCase());
  if (index < 0) fail(`expected ${what} to have an option ${show(want)}; saw options ${show(options.map((o) => o.value || o.text))}`);
  await select.selectOption({ index });
}

async function shot(page, name) {
  const file = path.join(args.screenshots, name);
  // From the top, or the sticky top bar lands mid-page in the full-page picture.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true, timeout: TIMEOUT });
  return file;
}

// ---- the scenario ---------------------------------------------------------------------

const browser = await playwright.chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: CHROMIUM_ARGS,
  timeout: TIMEOUT,
});
const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
context.setDefaultTimeout(TIMEOUT);
context.setDefaultNavigationTimeout(TIMEOUT);

// What the page does wrong on the side: uncaught exceptions fail the test at the end,
// console errors and API errors are reported.
const pageErrors = [];
const consoleErrors = [];
const apiErrors = [];
const apiRequests = [];
function watch(page) {
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

const page = watch(await context.newPage());
let activePage = page; // the page a failure is reported on
const tid = (id) => page.getByTestId(id);
const hash = () => new URL(page.url()).hash;
const runIdOf = (url) => (new URL(url).hash.match(/^#\/runs\/([^/?#]+)$/) || [])[1];
const dagNode = (container, key) => container.locator(`[data-testid="dag-node"][data-step="${key}"]`);
const eventRows = () => tid('event-log').getByTestId('event-row');
const rowTypes = () => eventRows().evaluateAll((rows) => rows.map((r) => r.dataset.type));
let firstRun;
let secondRun;

async function scenario() {
  await step('a. pipelines', async () => {
    await page.goto(`${args.url}/#/pipelines`);
    const row = await visible(page.locator('[data-testid="pipeline-row"][data-name="flaky"]'), 'pipeline-row[data-name=flaky]');
    ok('the pipeline `flaky` is listed');
    await shot(page, 'pipelines.png');
    const link = row.locator('a[href$="#/pipelines/flaky"]');
    await ((await link.count()) ? link.first() : row.locator('a').first()).click();
    await until(hash, (h) => h === '#/pipelines/flaky', 'the URL to go to #/pipelines/flaky');
    const dag = await visible(tid('dag'), 'dag');
    for (const key of ['hello_world', 'check']) {
      await visible(dagNode(dag, key), `dag-node[data-step=${key}] in dag`);
    }
    ok('the pipeline page shows dag-nodes hello_world and check');
    await dagNode(dag, 'check').first().click();
    const detail = await visible(tid('solid-detail'), 'solid-detail after clicking dag-node check');
    await until(() => detail.innerText(), (t) => t.includes('mode'), 'solid-detail of check to show its config schema (the key `mode`)');
    ok('clicking dag-node check shows its solid-detail with the config schema');
    await shot(page, 'pipeline.png');
  });

  await step('b. launchpad', async () => {
    await (await visible(tid('launch-button'), 'launch-button')).click();
    await until(hash, (h) => h === '#/launch/flaky', 'the URL to go to #/launch/flaky');
    const editor = await visible(tid('config-editor'), 'config-editor');
    const template = await editor.inputValue();
    info(`config template: ${template.replace(/\s+/g, ' ').slice(0, 200)}`);
    await visible(tid('problem').filter({ hasText: 'solids.check.config' }),
      'a problem naming solids.check.config (the template lacks check\'s required mode)');
    const submit = tid('launch-submit');
    await until(() => submit.isDisabled(), (d) => d === true, 'launch-submit to be disabled while there are problems');
    ok('the template is invalid: a problem names solids.check.config and launch-submit is disabled');
    await shot(page, 'launchpad-invalid.png');

    let config;
    try {
      config = JSON.parse(template);
    } catch {
      fail(`expected config-editor to hold the config template as JSON; saw ${show(template.slice(0, 200))}`);
    }
    config ??= {};
    config.solids ??= {};
    config.solids.check ??= {};
    config.solids.check.config = { ...(config.solids.check.config || {}), mode: 'fail' };
    await editor.fill(JSON.stringify(config, null, 2));
    await until(() => tid('problem').filter({ visible: true }).allInnerTexts(), (ps) => ps.length === 0,
      'no visible problem once check\'s mode is "fail"');
    await until(() => submit.isDisabled(), (d) => d === false, 'launch-submit to be enabled once the config is valid');
    ok('with mode "fail" the problems are gone and launch-submit is enabled');
    await shot(page, 'launchpad.png');
    await submit.click();
  });

  await step('c. run page', async () => {
    await until(() => runIdOf(page.url()) ?? hash(), () => !!runIdOf(page.url()), 'launching to open #/runs/ID');
    firstRun = runIdOf(page.url());
    info(`run ${firstRun}`);
    const status = await visible(tid('run-status'), 'run-status');
    const seen = [];
    const first = await attr(status, 'data-status');
    seen.push(first);
    await shot(page, 'run-live.png');
    await until(async () => {
      const s = await attr(status, 'data-status');
      if (s !== seen[seen.length - 1]) seen.push(s);
      return s;
    }, (s) => FINAL.includes(s), 'run-status to reach a final data-status');
    if (seen[seen.length - 1] !== 'FAILURE') fail(`expected run-status data-status="FAILURE"; saw ${show(seen.join(' -> '))}`);
    ok(`run-status went ${seen.join(' -> ')} (live, without reloading)`);
    await until(() => status.innerText(), (t) => t.toUpperCase().includes('FAILURE'), 'run-status text to say FAILURE');
    const dag = await visible(tid('run-dag'), 'run-dag');
    await attrIs(dagNode(dag, 'check'), 'data-status', 'failed', 'run-dag dag-node[data-step=check]');
    await attrIs(dagNode(dag, 'hello_world'), 'data-status', 'succeeded', 'run-dag dag-node[data-step=hello_world]');
    ok('run-dag: check is failed, hello_world succeeded');
    await visible(eventRows().and(page.locator('[data-type="step_failed"]')), 'event-log event-row[data-type=step_failed]');
    ok('the event-log shows a step_failed row');
    await visible(tid('gantt'), 'gantt');
    ok('the gantt is visible');
    await shot(page, 'run-failed.png');
  });

  await step('d. step panel', async () => {
    await dagNode(tid('run-dag'), 'check').first().click();
    const panel = await visible(tid('step-panel'), 'step-panel after clicking dag-node check');
    const error = await visible(panel.getByTestId('step-error'), 'step-error in step-panel');
    await until(() => error.innerText(), (t) => t.includes('the data looked wrong'), 'step-error to contain "the data looked wrong"');
    ok('step-panel of check shows step-error "the data looked wrong"');
    await attached(panel.getByTestId('compute-logs'), 'compute-logs in step-panel');
    ok('step-panel has compute-logs');
    await shot(page, 'step-error.png');
  });

  await step('e. log filters', async () => {
    const all = await until(rowTypes, (ts) => ts.length >= 2, 'the event-log to show several event-rows');
    info(`${all.length} event-rows: ${[...new Set(all)].join(', ')}`);
    const typeFilter = await visible(tid('log-filter-type'), 'log-filter-type');
    await choose(typeFilter, 'step_failed', 'log-filter-type');
    await until(rowTypes, (ts) => ts.length >= 1 && ts.every((t) => t === 'step_failed'),
      'with log-filter-type step_failed: only event-row[data-type=step_failed], at least one');
    ok('the type filter step_failed shows only step_failed rows');
    await shot(page, 'log-filtered.png');
    await typeFilter.selectOption({ index: 0 });
    await until(rowTypes, (ts) => ts.length >= all.length, `all ${all.length} event-rows back once log-filter-type is reset`);
    ok('resetting the type filter brings every row back');

    const search = await visible(tid('log-search'), 'log-search');
    await search.fill('looked wrong');
    await until(rowTypes, (ts) => ts.length >= 1 && ts.length < all.length && ts.includes('step_failed'),
      `with log-search "looked wrong": fewer than ${all.length} event-rows, the step_failed one among them`);
    ok('searching "looked wrong" finds the step_failed row');
    await search.fill('');
    await until(rowTypes, (ts) => ts.length >= all.length, `all ${all.length} event-rows back once log-search is cleared`);
    ok('clearing the search brings every row back');
  });

  await step('f. re-execute from failure', async () => {
    // The step panel is a drawer over the run's buttons: close it (Escape), else reload.
    await page.keyboard.press('Escape');
    if (await tid('step-panel').isVisible()) {
      await sleep(300);
      if (await tid('step-panel').isVisible()) {
        info('Escape does not close step-panel; reloading the run page');
        await page.reload();
      }
    }
    const button = await visible(tid('reexecute-failure'), 'reexecute-failure');
    await until(() => button.isEnabled(), (e) => e === true, 'reexecute-failure to be enabled (the run ended with a failed step)');
    await button.click();
    await until(() => runIdOf(page.url()) ?? hash(), (id) => !!runIdOf(page.url()) && id !== firstRun,
      `re-execution to open a new #/runs/ID (not ${firstRun})`);
    secondRun = runIdOf(page.url());
    info(`run ${secondRun}`);
    const parent = await visible(tid('parent-run-link'), 'parent-run-link');
    await until(() => attr(parent, 'href'), (h) => !!h && h.includes(firstRun), `parent-run-link href to point to ${firstRun}`);
    ok(`the new run's parent-run-link points to ${firstRun}`);
    // The new run's own state first (the page may still show the parent's a moment).
    const dag = await visible(tid('run-dag'), 'run-dag');
    await attrIs(dagNode(dag, 'hello_world'), 'data-status', 'reused', 'run-dag dag-node[data-step=hello_world]');
    const status = await visible(tid('run-status'), 'run-status');
    await attrIs(status, 'data-status', FINAL, 'run-status');
    await attrIs(status, 'data-status', 'FAILURE', 'run-status (check runs again with the parent\'s mode "fail")');
    await attrIs(dagNode(dag, 'check'), 'data-status', 'failed', 'run-dag dag-node[data-step=check]');
    ok('hello_world is reused, check ran again and failed; the run is FAILURE');
    await visible(eventRows().and(page.locator('[data-type="step_reused"]')), 'event-log event-row[data-type=step_reused]');
    ok('the event-log shows a step_reused row');
    await shot(page, 'reexecuted.png');
  });

  await step('g. runs list', async () => {
    await page.goto(`${args.url}/#/runs`);
    await visible(tid('runs-table'), 'runs-table');
    const row = (id) => page.locator(`[data-testid="run-row"][data-run="${id}"]`);
    for (const id of [firstRun, secondRun]) {
      await visible(row(id), `run-row[data-run=${id}]`);
      await attrIs(row(id), 'data-status', 'FAILURE', `run-row[data-run=${id}]`);
    }
    ok('both runs are listed as FAILURE');
    const statuses = () => page.locator('[data-testid="run-row"]').evaluateAll((rs) => rs.map((r) => `${r.dataset.run}:${r.dataset.status}`));
    const filter = await visible(tid('filter-status'), 'filter-status');
    await choose(filter, 'SUCCESS', 'filter-status');
    await until(statuses, (rs) => !rs.some((r) => r.startsWith(firstRun) || r.startsWith(secondRun)) && rs.every((r) => r.endsWith(':SUCCESS')),
      'with filter-status SUCCESS: no FAILURE run-row, neither of our runs');
    ok('filter-status SUCCESS hides them');
    await choose(filter, 'FAILURE', 'filter-status');
    await until(statuses, (rs) => rs.length >= 2 && rs.every((r) => r.endsWith(':FAILURE'))
      && rs.some((r) => r.startsWith(firstRun)) && rs.some((r) => r.startsWith(secondRun)),
    `with filter-status FAILURE: only FAILURE run-rows, ${firstRun} and ${secondRun} among them`);
    ok('filter-status FAILURE keeps both');
    await shot(page, 'runs.png');
    await row(firstRun).first().click();
    await until(hash, (h) => h === `#/runs/${firstRun}`, `clicking run-row ${firstRun} to open #/runs/${firstRun}`);
    ok('clicking a run-row opens its run page');
  });

  await step('h. assets', async () => {
    const listed = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/assets', { timeout: TIMEOUT }).catch(() => null);
    await page.goto(`${args.url}/#/assets`);
    await visible(tid('page-title'), 'page-title');
    const response = await listed;
    if (!response) fail('expected the assets page to GET /api/assets; saw no such request');
    if (response.status() !== 200) fail(`expected GET /api/assets to answer 200; saw ${response.status()}`);
    const { assets } = await response.json();
    await until(() => tid('page-title').innerText(), (t) => /asset/i.test(t), 'page-title to name the assets page');
    const rows = page.locator('[data-testid="asset-row"]');
    const count = await until(() => rows.count(), (c) => c === assets.length,
      `${assets.length} asset-row(s), one per asset GET /api/assets lists`);
    await sleep(300); // an error banner would come with the rendering
    // No hook names an error banner: an alert, or anything styled as an error, counts.
    const banner = page.locator('[data-testid="error-banner"], [role="alert"], .error, .error-banner, .banner-error').filter({ visible: true });
    if (await banner.count()) fail(`expected no error banner on the assets page; saw ${show(await banner.first().innerText())}`);
    await shot(page, 'assets.png');
    if (count === 0) {
      ok('no assets: the page renders its empty state without an error banner');
      return;
    }
    ok(`${count} asset-row(s)`);
    const key = await attr(rows.first(), 'data-key');
    await rows.first().click();
    await until(hash, (h) => h.startsWith('#/assets/'), 'clicking an asset-row to open #/assets/KEY');
    const history = await visible(tid('asset-history'), 'asset-history');
    await visible(history.getByTestId('asset-event'), 'an asset-event in asset-history');
    ok(`asset ${key} shows its history`);
    await shot(page, 'asset.png');
  });

  if (args.bigRun) {
    await step('i. big run', async () => {
      // A cold open in a new tab: the time from navigation to the status and a log row.
      const big = watch(await context.newPage());
      activePage = big;
      const t0 = performance.now();
      await big.goto(`${args.url}/#/runs/${args.bigRun}`, { waitUntil: 'commit' });
      const status = big.getByTestId('run-status');
      const rows = big.getByTestId('event-log').getByTestId('event-row');
      await Promise.all([visible(status, 'run-status'), visible(rows, 'an event-row in event-log')]);
      const ms = Math.round(performance.now() - t0);
      console.log(`   ${currentStep}: run-status and the first event-row visible after ${ms} ms (budget ${BIG_RUN_BUDGET_MS} ms)`);
      const slowest = apiRequests.filter((r) => r.step === currentStep && r.ms !== undefined).sort((a, b) => b.ms - a.ms).slice(0, 4);
      info(`slowest API calls while opening: ${slowest.map((r) => `${new URL(r.url).pathname}${new URL(r.url).search} ${r.ms} ms`).join(' ; ')}`);
      // Over budget fails the step, after the scrolling checks (they tell more).
      const slow = ms > BIG_RUN_BUDGET_MS
        ? `expected run ${args.bigRun} to open within ${BIG_RUN_BUDGET_MS} ms; saw ${ms} ms` : null;
      if (!slow) ok(`run ${args.bigRun} opened in ${ms} ms`);
      const seqs = () => rows.evaluateAll((rs) => rs.map((r) => Number(r.dataset.seq)).filter(Number.isFinite));
      const before = await until(seqs, (s) => s.length > 0, 'event-rows with a numeric data-seq');
      const lowest = Math.min(...before);
      info(`${before.length} event-rows in the DOM, data-seq ${lowest}..${Math.max(...before)}`);
      // Scroll the log up: whichever of event-log and its descendants scrolls, to its top.
      const log = big.getByTestId('event-log');
      let now = before;
      for (let i = 0; i < 5 && Math.min(...now) >= lowest; i++) {
        await log.evaluate((root) => {
          for (const el of [root, ...root.querySelectorAll('*')]) {
            if (el.scrollHeight > el.clientHeight + 1) {
              el.scrollTop = 0;
              el.dispatchEvent(new Event('scroll'));
            }
          }
          root.scrollIntoView({ block: 'start' });
        });
        await log.hover({ timeout: 5000 }).catch(() => {});
        await big.mouse.wheel(0, -3000);
        await sleep(700);
        now = await seqs();
      }
      now = await until(seqs, (s) => s.length > 0 && Math.min(...s) < lowest,
        `scrolling event-log up to load event-rows older than data-seq ${lowest}`, 10_000);
      ok(`scrolling up loads older rows (lowest data-seq ${lowest} -> ${Math.min(...now)}; ${now.length} rows in the DOM)`);
      if (now.length > 2000) info(`warning: ${now.length} event-rows in the DOM: the log is neither virtualised nor capped`);
      const events = apiRequests.filter((r) => r.step === currentStep && r.url.includes('/events'));
      info(`event requests: ${events.map((r) => new URL(r.url).search || '(no query)').slice(0, 8).join(' ; ')}${events.length > 8 ? ` ; ... (${events.length})` : ''}`);
      await shot(big, 'big-run.png');
      if (slow) fail(slow);
      await big.close();
      activePage = page;
    });
  }
}

// ---- run it --------------------------------------------------------------------------

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
  await activePage.screenshot({ path: path.join(args.screenshots, name), fullPage: true, timeout: 10_000 })
    .then(() => console.error(`   screenshot: ${path.join(args.screenshots, name)}`))
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
console.log(failed ? 'e2e: FAILED' : `e2e: every check passed; screenshots in ${args.screenshots}`);
process.exit(failed ? 1 : 0);

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

import {
  FINAL, TIMEOUT, apiRequests, attached, attr, attrIs, choose, currentStep, fail, info, ok, reportOn, run, setUp,
  shot, show, sleep, step, until, visible, watch,
} from './harness.mjs';

const BIG_RUN_BUDGET_MS = 1000;

const { args, context, page, tid, hash } = await setUp({
  name: 'e2e',
  synopsis: '--url http://127.0.0.1:PORT --screenshots DIR [--big-run RUNID]',
  flags: { '--big-run': 'bigRun' },
});

// ---- the scenario ---------------------------------------------------------------------

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
      reportOn(big);
      const t0 = performance.now();
      await big.goto(`${args.url}/#/runs/${args.bigRun}`, { waitUntil: 'commit' });
      const status = big.getByTestId('run-status');
      const rows = big.getByTestId('event-log').getByTestId('event-row');
      await Promise.all([visible(status, 'run-status'), visible(rows, 'an event-row in event-log')]);
      const ms = Math.round(performance.now() - t0);
      info(`run-status and the first event-row visible after ${ms} ms (budget ${BIG_RUN_BUDGET_MS} ms)`);
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
      reportOn(page);
    });
  }
}

await run(scenario);

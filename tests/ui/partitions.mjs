// The partitions UI's browser test: drives Debian's Chromium with playwright-core through
// a running `weft ui tests/ui/partitions.toml` on an empty store, using the data-testid
// hooks of the UI: the Partitions tab of a partitioned pipeline draws its status matrix,
// a range selected in it is backfilled (the backfill is listed, its runs turn the cells
// green), a failed partition opens its run, a running backfill is canceled, the
// Automation page lists the schedule, and a partition picked on the launchpad is the one
// its run runs. Screenshots of every page go to --screenshots.
//
//   scripts/browser                                   # once: Chromium, playwright-core
//   target/debug/weft ui tests/ui/partitions.toml --port 3997 --db /tmp/p-db/weft.redb &
//   node tests/ui/partitions.mjs --url http://127.0.0.1:3997 --screenshots /tmp/p-shots
//
// The fixture (tests/ui/partitions.toml): a daily set `days` over 2024-01-01..2024-01-08,
// a pipeline `daily` on it whose step `report` (solid `dated`) fails for 2024-01-03 and
// sleeps a second, a pipeline `plain` that is not partitioned, a schedule `nightly` of
// `daily` at `0 2 * * *`. The store must be empty: the script makes the runs it checks.
//
// Like e2e.mjs: each step prints "ok: ..." as it passes; the first failed check stops the
// test with what was expected and what was seen (and a FAILED-*.png), exit status 1.

import { FINAL, attr, attrIs, fail, info, ok, run, setUp, shot, show, sleep, step, until, visible } from './harness.mjs';

const PIPELINE = 'daily';
const KEYS = ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-06', '2024-01-07', '2024-01-08'];
const FAILING = '2024-01-03'; // the fixture's fail_on

const { args, page, tid, hash } = await setUp({ name: 'partitions', synopsis: '--url http://127.0.0.1:PORT --screenshots DIR' });

const cell = (key) => page.locator(`[data-testid="partition-cell"][data-key="${key}"]`);
const cellStates = () => page.locator('[data-testid="partition-cell"]')
  .evaluateAll((cells) => Object.fromEntries(cells.map((c) => [c.dataset.key, c.dataset.state])));
const selectedKeys = () => page.locator('[data-testid="partition-cell"].selected').evaluateAll((cells) => cells.map((c) => c.dataset.key));
const legendCounts = () => page.locator('[data-testid^="partition-count-"]')
  .evaluateAll((bs) => Object.fromEntries(bs.map((b) => [b.dataset.testid.replace('partition-count-', ''), Number(b.textContent.replace(/\D/g, ''))])));
const backfillRow = (id) => page.locator(`[data-testid="backfill-row"][data-backfill="${id}"]`);
const expectedStates = (overrides) => Object.fromEntries(KEYS.map((k) => [k, overrides[k] ?? 'missing']));
const sameStates = (want) => (seen) => KEYS.every((k) => seen?.[k] === want[k]) && Object.keys(seen ?? {}).length === KEYS.length;
const runs = {}; // partition key -> the run the setup made of it

// The API, straight (the setup, and what the UI is checked against).
async function call(method, url, body) {
  const response = await fetch(`${args.url}${url}`, {
    method, headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try { data = JSON.parse(text); } catch { /* reported below */ }
  return { status: response.status, data, text };
}

async function scenario() {
  await step('a. setup', async () => {
    const { status, data, text } = await call('GET', `/api/pipelines/${PIPELINE}/partitions`);
    if (status !== 200) fail(`expected GET /api/pipelines/${PIPELINE}/partitions to answer 200; saw ${status} ${text.slice(0, 300)}`);
    const keys = data.partitions.map((p) => p.key);
    if (show(keys) !== show(KEYS)) fail(`expected the fixture's partitions ${show(KEYS)}; saw ${show(keys)}`);
    if (data.partitions.some((p) => p.state !== 'missing')) fail(`expected an empty store (every partition missing); saw ${show(data.partitions.map((p) => p.state))}`);
    // One run that succeeds and one that fails, launched as a user of the launchpad would.
    for (const key of ['2024-01-02', FAILING]) {
      const launched = await call('POST', '/api/runs', { pipeline: PIPELINE, config: { partition: key } });
      if (launched.status !== 201) fail(`expected POST /api/runs of partition ${key} to answer 201; saw ${launched.status} ${launched.text.slice(0, 300)}`);
      runs[key] = launched.data.run.id;
    }
    for (const [key, id] of Object.entries(runs)) {
      const want = key === FAILING ? 'FAILURE' : 'SUCCESS';
      await until(async () => String((await call('GET', `/api/runs/${id}`)).data?.run?.status ?? '').toUpperCase(),
        (s) => FINAL.includes(s), `run ${id} of ${key} to end`);
      const seen = String((await call('GET', `/api/runs/${id}`)).data.run.status).toUpperCase();
      if (seen !== want) fail(`expected run ${id} of partition ${key} to end ${want}; saw ${seen}`);
    }
    ok(`partition 2024-01-02 ran and succeeded (${runs['2024-01-02']}), ${FAILING} failed (${runs[FAILING]})`);
  });

  await step('b. partitions tab', async () => {
    await page.goto(`${args.url}/#/pipelines/plain`);
    await visible(tid('dag'), 'dag of pipeline plain');
    await sleep(500); // the partitions question is asked alongside the graph
    if (await tid('tab-partitions').isVisible()) fail('expected no visible tab-partitions on the page of `plain` (not partitioned); saw one');
    ok('the page of the unpartitioned pipeline `plain` has no Partitions tab');

    await page.goto(`${args.url}/#/pipelines/${PIPELINE}`);
    await visible(tid('dag'), `dag of pipeline ${PIPELINE}`);
    const tab = await visible(tid('tab-partitions'), `tab-partitions on the page of ${PIPELINE}`);
    await tab.click();
    await until(hash, (h) => h === `#/pipelines/${PIPELINE}/partitions`, `the URL to go to #/pipelines/${PIPELINE}/partitions`);
    ok('the partitioned pipeline shows a Partitions tab, which opens its partitions page');
  });

  await step('c. matrix', async () => {
    const matrix = await visible(tid('partition-matrix'), 'partition-matrix');
    await attrIs(matrix, 'data-cadence', 'daily', 'partition-matrix');
    const labels = await page.getByTestId('partition-row-label').allInnerTexts();
    if (show(labels) !== show(['2024-01'])) fail(`expected one calendar row labelled 2024-01; saw ${show(labels)}`);
    const want = expectedStates({ '2024-01-02': 'succeeded', [FAILING]: 'failed' });
    await until(cellStates, sameStates(want), `partition-cells ${show(want)}`);
    ok('a daily calendar: one row 2024-01, 8 cells, 2024-01-02 succeeded, 2024-01-03 failed, the rest missing');
    await until(legendCounts, (c) => c.succeeded === 1 && c.failed === 1 && c.running === 0 && c.missing === 6,
      'the legend to count 1 succeeded, 1 failed, 0 running, 6 missing');
    ok('the legend counts 1 succeeded, 1 failed, 0 running, 6 missing');
    const title = await attr(cell(FAILING), 'title');
    if (!title?.includes(FAILING) || !/failed/i.test(title) || !/1 run\b/.test(title)) fail(`expected the tooltip of ${FAILING} to give its key, "Failed" and "1 run"; saw ${show(title)}`);
    const colors = await page.locator('[data-testid="partition-cell"]').evaluateAll((cells) =>
      Object.fromEntries(cells.map((c) => [c.dataset.state, getComputedStyle(c).backgroundColor])));
    if (new Set(Object.values(colors)).size !== Object.keys(colors).length) fail(`expected each state its own colour; saw ${show(colors)}`);
    ok(`the tooltip says ${show(title.replace(/\n/g, ' | '))}; the states have their own colours`);
    await visible(tid('backfills'), 'the backfills list on the partitions tab');
    if (await page.getByTestId('backfill-row').count()) fail('expected no backfill-row yet');
    await shot(page, 'partitions.png');
  });

  let backfillId;
  await step('d. backfill a range', async () => {
    await cell('2024-01-04').click();
    await cell('2024-01-06').click({ modifiers: ['Shift'] });
    await until(selectedKeys, (ks) => show(ks) === show(['2024-01-04', '2024-01-05', '2024-01-06']),
      'clicking 2024-01-04 then Shift-clicking 2024-01-06 to select 2024-01-04..06');
    await attrIs(tid('backfill-selection'), 'data-count', '3', 'backfill-selection');
    ok('click and Shift-click select the range 2024-01-04..2024-01-06');
    // A range over a succeeded partition, missing only, still runs just the three.
    await cell('2024-01-02').click();
    await cell('2024-01-06').click({ modifiers: ['Shift'] });
    await until(selectedKeys, (ks) => ks.length === 5, 'Shift-clicking 2024-01-06 from 2024-01-02 to select five partitions');
    await tid('backfill-missing-only').check();
    await attrIs(tid('backfill-plan'), 'data-count', '3', 'backfill-plan (missing only: 04, 05, 06)');
    await tid('backfill-max-concurrent').fill('2');
    ok('2024-01-02..06 with "missing only" plans 3 runs');
    await shot(page, 'partitions-selected.png');

    const request = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === `/api/pipelines/${PIPELINE}/backfills`);
    await (await visible(tid('backfill-launch'), 'backfill-launch')).click();
    const body = JSON.parse((await request).postData() ?? 'null');
    if (body?.from !== '2024-01-02' || body?.to !== '2024-01-06' || body?.missing_only !== true || body?.max_concurrent !== 2) {
      fail(`expected the backfill request {from: 2024-01-02, to: 2024-01-06, missing_only: true, max_concurrent: 2}; saw ${show(body)}`);
    }
    const launched = await visible(tid('backfill-launched'), 'backfill-launched after Launch');
    backfillId = await attr(launched, 'data-backfill');
    info(`backfill ${backfillId}`);
    const row = await visible(backfillRow(backfillId), `backfill-row[data-backfill=${backfillId}]`);
    await until(() => row.innerText(), (t) => t.includes(PIPELINE) && /\b3\b/.test(t), `backfill-row to name ${PIPELINE} and its 3 partitions`);
    ok(`the backfill ${backfillId} is listed with its 3 partitions`);
    const seen = new Set();
    await until(async () => {
      const states = await cellStates();
      for (const k of ['2024-01-04', '2024-01-05', '2024-01-06']) seen.add(`${k}:${states[k]}`);
      return states;
    }, sameStates(expectedStates({ '2024-01-02': 'succeeded', [FAILING]: 'failed', '2024-01-04': 'succeeded', '2024-01-05': 'succeeded', '2024-01-06': 'succeeded' })),
    'partition-cells 2024-01-04..06 to turn succeeded (without reloading)');
    info(`cells seen on the way: ${[...seen].join(', ')}`);
    await attrIs(row, 'data-status', 'SUCCESS', `backfill-row[data-backfill=${backfillId}]`);
    const progress = row.getByTestId('backfill-progress');
    await attrIs(progress, 'data-succeeded', '3', 'backfill-progress');
    await attrIs(progress, 'data-total', '3', 'backfill-progress');
    await until(legendCounts, (c) => c.succeeded === 4 && c.failed === 1 && c.missing === 3, 'the legend to count 4 succeeded, 1 failed, 3 missing');
    ok('its runs turned 2024-01-04..06 green; the backfill is SUCCESS with 3/3 succeeded');
    await shot(page, 'partitions-backfilled.png');
  });

  await step('e. errors in place', async () => {
    await cell('2024-01-07').click();
    await until(selectedKeys, (ks) => show(ks) === show(['2024-01-07']), 'a click to select 2024-01-07 alone');
    await tid('backfill-missing-only').uncheck();
    await page.locator('[data-testid="backfill-panel"] details summary').click();
    await tid('backfill-run-config').fill('{"solids": {"report": {"config": {"no_such_field": 1}}}}');
    await tid('backfill-launch').click();
    const error = await visible(tid('backfill-error'), 'backfill-error after launching with bad run config');
    const text = await error.innerText();
    if (!text.includes('no_such_field')) fail(`expected backfill-error to name no_such_field; saw ${show(text)}`);
    ok(`bad run config is refused, in place: ${show(text.replace(/\s+/g, ' ').slice(0, 160))}`);
    await shot(page, 'partitions-error.png');
    await tid('backfill-run-config').fill('');
    if ((await page.getByTestId('backfill-row').count()) !== 1) fail('expected the refused backfill not to be listed');
  });

  await step('f. open a run from the matrix', async () => {
    await cell(FAILING).dblclick();
    await until(hash, (h) => h === `#/runs/${runs[FAILING]}`, `double-clicking ${FAILING} to open #/runs/${runs[FAILING]}`);
    await attrIs(await visible(tid('run-status'), 'run-status'), 'data-status', 'FAILURE', 'run-status');
    await until(() => tid('run-partition').innerText(), (t) => t.trim() === FAILING, `run-partition to say ${FAILING}`);
    ok(`double-clicking the failed cell opens its run ${runs[FAILING]}, which names its partition`);
  });

  await step('g. backfill page', async () => {
    await (await visible(tid('nav-backfills'), 'nav-backfills')).click();
    await until(hash, (h) => h === '#/backfills', 'nav-backfills to open #/backfills');
    const row = await visible(backfillRow(backfillId), `backfill-row[data-backfill=${backfillId}] on the backfills page`);
    await shot(page, 'backfills.png');
    await row.click();
    await until(hash, (h) => h === `#/backfills/${backfillId}`, `clicking the row to open #/backfills/${backfillId}`);
    await attrIs(await visible(tid('backfill-page-status'), 'backfill-page-status'), 'data-status', 'SUCCESS', 'backfill-page-status');
    const rows = await until(() => page.getByTestId('backfill-partition').evaluateAll((rs) => rs.map((r) => `${r.dataset.key}:${r.dataset.status}`)),
      (rs) => rs.length === 3, 'three backfill-partition rows');
    if (show(rows) !== show(['2024-01-04:SUCCESS', '2024-01-05:SUCCESS', '2024-01-06:SUCCESS'])) fail(`expected 2024-01-04..06 SUCCESS; saw ${show(rows)}`);
    ok(`the backfill page lists ${rows.join(', ')}`);
    await shot(page, 'backfill.png');
  });

  await step('h. cancel a backfill', async () => {
    await page.goto(`${args.url}/#/pipelines/${PIPELINE}/partitions`);
    await visible(tid('partition-matrix'), 'partition-matrix');
    await until(legendCounts, (c) => c.missing === 3, 'the legend to count 3 missing');
    // Everything missing (01, 07, 08), one at a time, each run told to take 3 s.
    await tid('backfill-missing-only').check();
    await page.locator('[data-testid="backfill-panel"] details summary').click();
    await tid('backfill-run-config').fill('{"solids": {"report": {"config": {"sleep_ms": 3000}}}}');
    await attrIs(tid('backfill-plan'), 'data-count', '3', 'backfill-plan (all partitions, missing only)');
    await tid('backfill-max-concurrent').fill('1');
    await tid('backfill-launch').click();
    const id = await attr(await visible(tid('backfill-launched'), 'backfill-launched'), 'data-backfill');
    if (id === backfillId) fail(`expected a new backfill; saw ${id} again`);
    const row = await visible(backfillRow(id), `backfill-row[data-backfill=${id}]`);
    await attrIs(row, 'data-status', 'RUNNING', `backfill-row[data-backfill=${id}]`);
    await until(cellStates, (s) => Object.values(s).includes('running'), 'a partition-cell to show running');
    ok('a running partition is drawn as running');
    await shot(page, 'partitions-running.png');
    await (await visible(row.getByTestId('backfill-cancel'), 'backfill-cancel in the running backfill-row')).click();
    await attrIs(row, 'data-status', 'CANCELED', `backfill-row[data-backfill=${id}] after backfill-cancel`);
    if (await row.getByTestId('backfill-cancel').count()) fail('expected no backfill-cancel once the backfill is CANCELED');
    const states = await until(cellStates, (s) => !Object.values(s).includes('running'), 'no partition-cell running once canceled');
    info(`after the cancel: ${show(states)}`);
    ok(`backfill-cancel canceled ${id}`);
  });

  await step('i. automation', async () => {
    await (await visible(tid('nav-automation'), 'nav-automation')).click();
    await until(hash, (h) => h === '#/automation', 'nav-automation to open #/automation');
    const row = await visible(page.locator('[data-testid="schedule-row"][data-name="nightly"]'), 'schedule-row[data-name=nightly]');
    const cron = await row.getByTestId('schedule-cron').innerText();
    if (cron.trim() !== '0 2 * * *') fail(`expected the cron of nightly to read "0 2 * * *"; saw ${show(cron)}`);
    await visible(row.getByTestId('next-tick'), 'next-tick in the nightly schedule-row');
    const text = await row.innerText();
    if (!text.includes(PIPELINE)) fail(`expected the nightly row to name ${PIPELINE}; saw ${show(text)}`);
    ok(`the schedule nightly is listed: ${show(text.replace(/\s+/g, ' ').slice(0, 160))}`);
    await visible(tid('sensors'), 'the sensors card');
    await shot(page, 'automation.png');
  });

  await step('j. launch a partition', async () => {
    const key = '2024-01-05';
    await page.goto(`${args.url}/#/launch/${PIPELINE}`);
    const picker = await visible(tid('partition-input'), `partition-input on the launchpad of ${PIPELINE}`);
    const newestFirst = [...KEYS].reverse();
    const offered = await page.locator('[data-testid="partition-keys"] option').evaluateAll((os) => os.map((o) => o.value));
    if (show(offered) !== show(newestFirst)) fail(`expected the partition picker to offer ${show(newestFirst)} (newest first); saw ${show(offered)}`);
    ok('the launchpad of a partitioned pipeline has a Partition picker offering its keys, newest first');

    const isValidationOf = (wanted) => (r) => {
      if (r.method() !== 'POST' || new URL(r.url()).pathname !== `/api/pipelines/${PIPELINE}/validate`) return false;
      try { return JSON.parse(r.postData() ?? 'null')?.config?.partition === wanted; } catch { return false; }
    };
    const validated = page.waitForRequest(isValidationOf(key));
    await picker.fill(key);
    const config = JSON.parse(await tid('config-editor').inputValue());
    if (config.partition !== key) fail(`expected picking ${key} to put "partition": "${key}" in the run config; saw ${show(config.partition)}`);
    await validated;
    await until(() => tid('launch-submit').isEnabled(), Boolean, `launch-submit to be enabled once partition ${key} validates`);
    ok(`picking ${key} puts "partition": "${key}" in the run config, and the validation carries it`);

    await tid('config-editor').fill(JSON.stringify({ ...config, partition: '2024-01-04' }, null, 2));
    await until(() => picker.inputValue(), (v) => v === '2024-01-04', 'the picker to follow the JSON\'s "partition": "2024-01-04"');
    await picker.fill(key);
    ok('editing the JSON\'s partition moves the picker');
    await shot(page, 'launchpad-partition.png');

    await until(() => tid('launch-submit').isEnabled(), Boolean, 'launch-submit to be enabled');
    const launched = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/runs');
    await tid('launch-submit').click();
    const body = JSON.parse((await launched).postData() ?? 'null');
    if (body?.config?.partition !== key) fail(`expected the launch request's config to carry partition ${key}; saw ${show(body?.config)}`);
    await until(hash, (h) => /^#\/runs\/[0-9A-Z]{26}$/.test(h), 'launching to open the run page');
    const id = hash().slice('#/runs/'.length);
    await until(() => tid('run-partition').innerText(), (t) => t.trim() === key, `run-partition to say ${key}`);
    await attrIs(await visible(tid('run-status'), 'run-status'), 'data-status', 'SUCCESS', 'run-status');
    const tags = (await call('GET', `/api/runs/${id}`)).data?.run?.tags ?? {};
    if (tags['weft/partition'] !== key) fail(`expected run ${id} to be tagged weft/partition=${key}; saw ${show(tags)}`);
    ok(`Launch ran partition ${key}: run ${id} names it on its page, is tagged with it, and succeeded`);
  });
}

await run(scenario);

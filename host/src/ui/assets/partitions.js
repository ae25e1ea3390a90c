// weft UI: partitions and backfills (the status matrix, the backfill panel and lists,
// the backfill pages) and automation (schedules and sensors).

import {
  card, clearError, emptyState, enc, ERROR_TITLES, firstLine, formatCount, formatDuration,
  formatTime, h, isAbort, isLiveStatus, loadingView, manifestInfo, nowUs, pageHeader,
  prettyJson, problemList, query, runStatusOf, runStatusPill, setChildren, showError,
  truncate,
} from './lib.js';

/* ======================================================================================
 * Partitions and backfills
 * ==================================================================================== */

const PARTITION_STATES = ['succeeded', 'failed', 'running', 'missing'];
export const PARTITION_STATE_LABELS = { succeeded: 'Succeeded', failed: 'Failed', running: 'Running', missing: 'Missing' };
const PARTITIONS_POLL_MS = 2000; // the matrix and the backfills refresh this often
const BACKFILLS_SHOWN = 25; // rows of a backfills list before "Show all"
export const BACKFILL_TAG = 'weft/backfill'; // the tag naming a run's backfill
export const PARTITION_TAG = 'weft/partition'; // the tag naming a run's partition key

// Calendar-like layouts of time partitions: daily keys `2024-01-05` in a row per month,
// hourly keys `2024-01-05-13:00` in a row per day. Other sets wrap, a cell per key.
const CALENDARS = {
  daily: {
    pattern: /^\d{4}-\d{2}-\d{2}$/, columns: 31,
    row: (key) => key.slice(0, 7), column: (key) => Number(key.slice(8, 10)), header: (c) => String(c),
  },
  hourly: {
    pattern: /^\d{4}-\d{2}-\d{2}-\d{2}:\d{2}$/, columns: 24,
    row: (key) => key.slice(0, 10), column: (key) => Number(key.slice(11, 13)) + 1, header: (c) => String(c - 1).padStart(2, '0'),
  },
};

/** The pipeline pages' header: the pipeline page's and its partitions tab's. */
export function pipelineHeader(name) {
  return pageHeader({
    eyebrow: 'Pipeline', title: name,
    actions: [
      h('a', { class: 'button ghost', href: `#/runs?pipeline=${enc(name)}` }, 'View runs'),
      h('a', { class: 'button primary', href: `#/launch/${enc(name)}`, 'data-testid': 'launch-button' }, '▶ Launchpad'),
    ],
  });
}

/** The tabs of a pipeline's pages; Partitions shows once the pipeline is known to be partitioned. */
export function pipelineTabs(name, active) {
  const tab = (id, label, href) => h('a', {
    class: `tab${id === active ? ' active' : ''}`, href, 'data-testid': `tab-${id}`, 'aria-current': id === active ? 'page' : null,
  }, label);
  const partitions = tab('partitions', 'Partitions', `#/pipelines/${enc(name)}/partitions`);
  partitions.hidden = active !== 'partitions';
  return {
    element: h('nav', { class: 'tabs', 'aria-label': 'Pipeline', 'data-testid': 'pipeline-tabs' },
      tab('overview', 'Overview', `#/pipelines/${enc(name)}`), partitions),
    showPartitions() { partitions.hidden = false; },
  };
}

/**
 * Whether a pipeline is partitioned. The pipelines list says so when its entries have a
 * `partition_set`; else the partitions endpoint is asked, and its 404 means no.
 */
export async function isPartitioned(scope, name) {
  const listed = manifestInfo?.pipelines?.find((p) => p.name === name);
  if (listed && 'partition_set' in listed) return listed.partition_set != null;
  try {
    await scope.api(`/api/pipelines/${enc(name)}/partitions`);
    return true;
  } catch (error) {
    if (error.status === 404) return false;
    throw error;
  }
}

export async function partitionsPage(scope, root, name) {
  root.classList.add('page-wide');
  const tabs = pipelineTabs(name, 'partitions');
  root.append(pipelineHeader(name), tabs.element, loadingView());
  const url = `/api/pipelines/${enc(name)}/partitions`;
  let answer;
  try {
    answer = await scope.api(url);
  } catch (error) {
    if (error.status !== 404) throw error;
    root.lastChild.remove();
    root.append(card({
      testid: 'not-partitioned',
      body: emptyState('Not partitioned', error.message, h('a', { class: 'button', href: `#/pipelines/${enc(name)}` }, 'Overview')),
    }));
    return;
  }
  root.lastChild.remove();

  const legend = createPartitionLegend();
  const matrix = createPartitionMatrix({
    cadence: answer.cadence,
    onSelectionChange: () => panel.update(matrix.partitions(), matrix.selection()),
    onOpenRun: (run) => { location.hash = `#/runs/${enc(run)}`; },
  });
  const panel = createBackfillPanel({
    scope, pipeline: name,
    onClearSelection: () => matrix.clearSelection(),
    onLaunched: (record) => {
      matrix.clearSelection();
      backfills.highlight(record.id);
      backfills.refresh();
      refresh();
    },
  });
  const backfills = createBackfillList({ scope, pipeline: name, title: 'Backfills of this pipeline' });
  const liveDot = h('span', { class: 'live-indicator', title: `Refreshes every ${PARTITIONS_POLL_MS / 1000} seconds` }, h('span', { class: 'dot' }), 'Live');
  const matrixTitle = h('span', {}, `Partitions · ${formatCount(answer.partitions.length)}`);

  function show(status) {
    matrix.update(status.partitions);
    legend.update(status.partitions);
    panel.update(matrix.partitions(), matrix.selection());
    matrixTitle.textContent = `Partitions · ${formatCount(status.partitions.length)}`;
  }

  let inFlight = false;
  async function refresh() {
    if (inFlight) return;
    inFlight = true;
    try {
      const status = await scope.api(url);
      clearError('partitions');
      show(status);
    } catch (error) {
      showError(error, 'partitions');
    } finally {
      inFlight = false;
    }
  }

  root.firstChild.querySelector('.title-row').append(liveDot);
  root.append(
    h('div', { class: 'split partitions-split' },
      card({
        title: matrixTitle,
        className: 'matrix-card',
        testid: 'partitions-card',
        actions: legend.element,
        body: h('div', { class: 'card-body stack' },
          h('div', { class: 'matrix-about' },
            h('span', { class: 'chip' }, h('b', {}, 'set'), ' ', answer.partition_set),
            h('span', { class: 'chip' }, h('b', {}, 'cadence'), ' ', answer.cadence ?? 'static keys'),
            answer.description ? h('span', { class: 'muted small' }, answer.description) : null),
          matrix.element,
          h('p', { class: 'hint' }, 'Click a partition to select it, Shift-click to select a range, Ctrl/⌘-click to add or remove one. Double-click a partition that ran to open its latest run.')),
      }),
      h('aside', { class: 'side-panel' }, panel.element)),
    backfills.element);
  show(answer);
  backfills.refresh();
  scope.every(PARTITIONS_POLL_MS, () => { refresh(); backfills.refresh(); });
}

/** Counts of partitions by state, with their colours. */
function createPartitionLegend() {
  const counts = {};
  const element = h('div', { class: 'legend partition-legend', 'data-testid': 'partition-legend' }, PARTITION_STATES.map((state) => {
    counts[state] = h('b', { 'data-testid': `partition-count-${state}` }, '0');
    return h('span', { class: 'legend-item', 'data-state': state },
      h('span', { class: 'swatch', 'data-state': state }), counts[state], ` ${PARTITION_STATE_LABELS[state].toLowerCase()}`);
  }));
  return {
    element,
    update(partitions) {
      const tally = Object.fromEntries(PARTITION_STATES.map((s) => [s, 0]));
      for (const p of partitions) tally[p.state] = (tally[p.state] ?? 0) + 1;
      for (const state of PARTITION_STATES) counts[state].textContent = formatCount(tally[state]);
    },
  };
}

/** A partition's tooltip: its key, state and runs. */
function partitionTooltip(p) {
  const runs = p.runs ? `${formatCount(p.runs)} run${p.runs === 1 ? '' : 's'}` : 'never ran';
  return `${p.key}\n${PARTITION_STATE_LABELS[p.state] ?? p.state} · ${runs}${p.run ? `\nlatest run ${p.run} (double-click to open)` : ''}`;
}

/**
 * The rows of a calendar layout (a month of days, a day of hours), each `columns` wide
 * with its partitions in place and null where a day or hour is not in the set; or null
 * when the keys are not in the cadence's format (they are then wrapped).
 */
function calendarRows(calendar, partitions) {
  const rows = [];
  for (const p of partitions) {
    if (!calendar.pattern.test(p.key)) return null;
    const column = calendar.column(p.key);
    if (!(column >= 1 && column <= calendar.columns)) return null;
    const label = calendar.row(p.key);
    let row = rows.at(-1);
    if (row?.label !== label) rows.push((row = { label, cells: new Array(calendar.columns).fill(null) }));
    // An hour met twice (a clock turned back) keeps its first partition in the grid.
    row.cells[column - 1] ??= p;
  }
  return rows;
}

/**
 * The status matrix of a pipeline's partitions: a calendar for daily and hourly sets, a
 * wrapped grid of keys otherwise. Cells are built when the keys change, and repainted in
 * place on each refresh; clicks are handled once, on the matrix.
 */
function createPartitionMatrix({ cadence, onSelectionChange, onOpenRun }) {
  const element = h('div', { class: 'pmatrix-scroll' });
  let partitions = [];
  let byKey = new Map(); // key -> its status entry
  let position = new Map(); // key -> its index in key order
  let cells = new Map(); // key -> its cell
  let keysSignature = null;
  let selected = new Set();
  let anchor = null; // the cell a Shift-click range starts from

  function build() {
    cells = new Map();
    const calendar = CALENDARS[cadence];
    const rows = calendar ? calendarRows(calendar, partitions) : null;
    let grid;
    if (rows) {
      grid = h('div', { class: 'pmatrix calendar', role: 'grid' },
        h('div', { class: 'pmatrix-corner' }),
        Array.from({ length: calendar.columns }, (_, i) => h('div', { class: 'pmatrix-head' }, calendar.header(i + 1))),
        rows.map((row) => [
          h('div', { class: 'pmatrix-label', 'data-testid': 'partition-row-label' }, row.label),
          row.cells.map((p) => (p ? cellFor(p, false) : h('div', { class: 'pcell-void' }))),
        ]));
    } else {
      grid = h('div', { class: 'pmatrix wrapped', role: 'grid' }, partitions.map((p) => cellFor(p, true)));
    }
    if (rows) grid.style.setProperty('--columns', String(calendar.columns));
    grid.dataset.testid = 'partition-matrix';
    grid.dataset.cadence = cadence ?? 'static';
    setChildren(element, partitions.length ? grid : emptyState('No partitions yet', 'The set has no complete partition: the first one ends in the future.'));
  }

  function cellFor(p, labelled) {
    const cell = h('div', { class: `pcell${labelled ? ' labelled' : ''}`, role: 'gridcell', 'data-testid': 'partition-cell', 'data-key': p.key }, labelled ? p.key : null);
    cells.set(p.key, cell);
    paint(cell, p);
    return cell;
  }

  function paint(cell, p) {
    if (!cell) return;
    if (cell.dataset.state !== p.state) cell.dataset.state = p.state;
    const run = p.run ?? '';
    if ((cell.dataset.run ?? '') !== run) { if (run) cell.dataset.run = run; else delete cell.dataset.run; }
    const title = partitionTooltip(p);
    if (cell.title !== title) cell.title = title;
    const isSelected = selected.has(p.key);
    cell.classList.toggle('selected', isSelected);
    cell.setAttribute('aria-selected', String(isSelected));
  }

  function update(list) {
    partitions = list;
    byKey = new Map(list.map((p) => [p.key, p]));
    // Keys are fixed for a static set and only grow for a time set: their list, as text,
    // is the cheapest complete check whether the layout still holds.
    const signature = list.map((p) => p.key).join('\n');
    // Selected keys that left the set are dropped.
    const kept = new Set([...selected].filter((key) => byKey.has(key)));
    const lost = kept.size !== selected.size;
    selected = kept;
    if (signature !== keysSignature) {
      keysSignature = signature;
      position = new Map(list.map((p, i) => [p.key, i]));
      build();
    } else {
      for (const p of list) paint(cells.get(p.key), p);
    }
    if (lost) onSelectionChange();
  }

  function setSelection(keys) {
    const previous = selected;
    selected = keys;
    for (const key of new Set([...previous, ...keys])) {
      const p = byKey.get(key);
      if (p) paint(cells.get(key), p);
    }
    onSelectionChange();
  }

  function selectRange(from, to) {
    const [a, b] = [position.get(from), position.get(to)].sort((x, y) => x - y);
    setSelection(new Set(partitions.slice(a, b + 1).map((p) => p.key)));
  }

  element.addEventListener('click', (event) => {
    const cell = event.target.closest('.pcell[data-key]');
    if (!cell) return;
    const key = cell.dataset.key;
    if (event.shiftKey && anchor != null && position.has(anchor)) {
      selectRange(anchor, key);
      return;
    }
    anchor = key;
    if (event.ctrlKey || event.metaKey) {
      const next = new Set(selected);
      if (next.has(key)) next.delete(key); else next.add(key);
      setSelection(next);
    } else {
      // Clicking the one selected cell again clears the selection.
      setSelection(selected.size === 1 && selected.has(key) ? new Set() : new Set([key]));
    }
  });
  element.addEventListener('dblclick', (event) => {
    const run = event.target.closest('.pcell[data-run]')?.dataset.run;
    if (run) onOpenRun(run);
  });

  return {
    element,
    update,
    partitions: () => partitions,
    /** The selected keys, in key order. */
    selection: () => partitions.filter((p) => selected.has(p.key)).map((p) => p.key),
    clearSelection() { anchor = null; setSelection(new Set()); },
  };
}

/** The keys a backfill of `selection` (every key when empty) runs, as the server chooses them. */
function backfillKeys(partitions, selection, { missingOnly, failedOnly }) {
  const wanted = selection.length ? new Set(selection) : null;
  const filtered = missingOnly || failedOnly;
  return partitions
    .filter((p) => (!wanted || wanted.has(p.key))
      && (!filtered || (missingOnly && p.state === 'missing') || (failedOnly && p.state === 'failed')))
    .map((p) => p.key);
}

/** "2024-01-04 → 2024-01-06" for keys that follow each other, else the first few keys. */
function describeKeys(keys, partitions) {
  if (!keys.length) return '';
  if (keys.length === 1) return keys[0];
  if (isKeyRange(keys, partitions)) return `${keys[0]} → ${keys.at(-1)}`;
  return `${keys.slice(0, 4).join(', ')}${keys.length > 4 ? `, … (${formatCount(keys.length - 4)} more)` : ''}`;
}

/** "2024-01-04 … 2024-01-09": the first and last of keys, which may skip some between. */
const keySpan = (keys) => (keys.length > 1 ? `${keys[0]} … ${keys.at(-1)}` : keys[0] ?? '—');

/** Whether `keys` (in key order) are consecutive partitions of the set. */
function isKeyRange(keys, partitions) {
  const first = partitions.findIndex((p) => p.key === keys[0]);
  return first >= 0 && keys.every((key, i) => partitions[first + i]?.key === key);
}

/** The body of `POST /api/pipelines/NAME/backfills`: a range when it can be, else the keys. */
function backfillRequest(partitions, selection, { missingOnly, failedOnly, maxConcurrent, runConfig }) {
  const body = { missing_only: missingOnly, failed_only: failedOnly, max_concurrent: maxConcurrent };
  if (selection.length && isKeyRange(selection, partitions)) Object.assign(body, { from: selection[0], to: selection.at(-1) });
  else if (selection.length) body.partitions = selection;
  if (runConfig != null) body.run_config = runConfig;
  return body;
}

/** The side panel of the partitions tab: what a backfill would run, and its launch. */
function createBackfillPanel({ scope, pipeline, onClearSelection, onLaunched }) {
  const selectionText = h('div', { class: 'backfill-selection', 'data-testid': 'backfill-selection' });
  const selectionDetail = h('div', { class: 'backfill-detail' });
  const clear = h('button', { class: 'link-button small', hidden: true, onclick: onClearSelection }, 'clear selection');
  const missingOnly = h('input', { type: 'checkbox', 'data-testid': 'backfill-missing-only', onchange: () => edited() });
  const failedOnly = h('input', { type: 'checkbox', 'data-testid': 'backfill-failed-only', onchange: () => edited() });
  const maxConcurrent = h('input', { type: 'number', min: 1, max: 64, step: 1, value: 4, 'data-testid': 'backfill-max-concurrent', oninput: () => edited() });
  const runConfig = h('textarea', {
    class: 'backfill-config', 'data-testid': 'backfill-run-config', rows: 5, spellcheck: 'false',
    placeholder: '{ "solids": { … } }  (optional: the run config every run starts from)', oninput: () => edited(),
  });
  const plan = h('div', { class: 'backfill-plan', 'data-testid': 'backfill-plan' });
  const result = h('div', { class: 'backfill-result', 'data-testid': 'backfill-result' });
  const launch = h('button', { class: 'button primary', 'data-testid': 'backfill-launch', onclick: () => submit() }, '▶ Launch backfill');
  let partitions = [];
  let selection = [];
  let launching = false;
  const check = (input, label, hint) => h('label', { class: 'check' }, input, h('span', {}, label, h('span', { class: 'field-hint' }, ` ${hint}`)));

  /** The panel's options, or the message of what is wrong with them. */
  function options() {
    const max = Number(maxConcurrent.value);
    if (!Number.isInteger(max) || max < 1 || max > 64) return { problem: 'Max concurrent runs must be a whole number from 1 to 64.' };
    let config = null;
    if (runConfig.value.trim()) {
      try {
        config = JSON.parse(runConfig.value);
      } catch (error) {
        return { problem: `The run config is not JSON: ${error.message}` };
      }
      if (typeof config !== 'object' || config === null || Array.isArray(config)) return { problem: 'The run config must be a JSON object.' };
    }
    return { missingOnly: missingOnly.checked, failedOnly: failedOnly.checked, maxConcurrent: max, runConfig: config };
  }

  /** An option changed: the error of the last launch no longer applies. */
  function edited() {
    if (result.querySelector('[data-testid=backfill-error]')) result.replaceChildren();
    render();
  }

  function render() {
    const all = selection.length === 0;
    setChildren(selectionText, all
      ? [h('b', {}, `All ${formatCount(partitions.length)} partitions`), h('div', { class: 'muted small' }, 'Select partitions in the matrix to backfill fewer.')]
      : [h('b', {}, `${formatCount(selection.length)} partition${selection.length === 1 ? '' : 's'}`), h('div', { class: 'mono small' }, describeKeys(selection, partitions))]);
    selectionText.dataset.count = String(all ? partitions.length : selection.length);
    selectionText.dataset.all = String(all);
    clear.hidden = all;
    const one = selection.length === 1 ? partitions.find((p) => p.key === selection[0]) : null;
    setChildren(selectionDetail, one ? h('div', { class: 'chips' },
      h('span', { class: 'chip', 'data-testid': 'selected-state' }, h('span', { class: 'swatch', 'data-state': one.state }), ' ', PARTITION_STATE_LABELS[one.state] ?? one.state),
      h('span', { class: 'chip' }, `${formatCount(one.runs)} run${one.runs === 1 ? '' : 's'}`),
      one.run ? h('a', { class: 'chip mono', href: `#/runs/${enc(one.run)}`, 'data-testid': 'selected-run-link', title: one.run }, `run ${one.run.slice(-8)} →`) : null) : null);

    const chosen = options();
    launch.disabled = launching || !!chosen.problem;
    if (chosen.problem) {
      plan.className = 'backfill-plan bad';
      plan.textContent = chosen.problem;
      return;
    }
    const keys = backfillKeys(partitions, selection, chosen);
    plan.dataset.count = String(keys.length);
    plan.className = `backfill-plan ${keys.length ? 'good' : 'bad'}`;
    plan.textContent = keys.length
      ? `${formatCount(keys.length)} run${keys.length === 1 ? '' : 's'}, at most ${chosen.maxConcurrent} at once.`
      : `Nothing to run: no${chosen.missingOnly ? ' missing' : ''}${chosen.missingOnly && chosen.failedOnly ? ' or' : ''}${chosen.failedOnly ? ' failed' : ''} partition in the selection.`;
    launch.disabled = launching || keys.length === 0;
  }

  async function submit() {
    const chosen = options();
    if (chosen.problem || launching) return;
    launching = true;
    launch.textContent = 'Launching…';
    render();
    try {
      const { backfill } = await scope.api(`/api/pipelines/${enc(pipeline)}/backfills`, { method: 'POST', body: backfillRequest(partitions, selection, chosen) });
      setChildren(result, h('div', { class: 'notice good', 'data-testid': 'backfill-launched', 'data-backfill': backfill.id },
        h('b', {}, 'Backfill launched'),
        h('div', {}, h('a', { class: 'mono', href: `#/backfills/${enc(backfill.id)}` }, backfill.id)),
        h('div', { class: 'small' }, `${formatCount(backfill.keys.length)} partition${backfill.keys.length === 1 ? '' : 's'}: ${describeKeys(backfill.keys, partitions)}`)));
      onLaunched(backfill);
    } catch (error) {
      if (isAbort(error)) return;
      console.warn(error);
      setChildren(result, h('div', { class: 'inline-error', 'data-testid': 'backfill-error', 'data-kind': error.kind ?? 'error' },
        // Its problems say more than its message (which sums them up), when it has some.
        h('b', {}, ERROR_TITLES[error.kind] ?? 'Error'), error.problems?.length ? problemList(error.problems) : [': ', error.message]));
    } finally {
      launching = false;
      launch.textContent = '▶ Launch backfill';
      if (scope.alive) render();
    }
  }

  const element = card({
    title: 'Backfill',
    testid: 'backfill-panel',
    body: h('div', { class: 'card-body stack' },
      h('div', { class: 'section' }, h('h3', {}, 'Selection'), selectionText, selectionDetail, clear),
      h('div', { class: 'section stack-tight' }, h('h3', {}, 'Options'),
        check(missingOnly, 'Missing only', '(never ran)'),
        check(failedOnly, 'Failed only', '(latest run failed)'),
        h('label', { class: 'field inline-field' }, h('span', { class: 'field-label' }, 'Max concurrent runs'), maxConcurrent)),
      h('details', { class: 'section' }, h('summary', { class: 'muted small' }, 'Run config'), runConfig),
      h('div', { class: 'launch-bar' }, plan, launch),
      result),
  });
  return {
    element,
    update(list, keys) { partitions = list; selection = keys; render(); },
  };
}

/** How far a backfill got, from `GET /api/backfills/ID`: each key's latest run in it. */
function backfillProgress(detail) {
  const progress = { total: detail.backfill.keys.length, succeeded: 0, failed: 0, running: 0 };
  for (const p of detail.partitions ?? []) {
    const status = runStatusOf(p);
    if (status === 'SUCCESS') progress.succeeded++;
    else if (status === 'FAILURE') progress.failed++;
    else if (isLiveStatus(status)) progress.running++;
  }
  return progress;
}

function backfillStatusPill(status, testid = null) {
  return h('span', { class: `pill backfill-${status.toLowerCase()}`, 'data-status': status, 'data-testid': testid },
    h('span', { class: 'dot' }), status);
}

/** A backfill's progress as a bar and counts: succeeded, failed, running, of all. */
function backfillProgressView(progress) {
  if (!progress) return h('span', { class: 'muted' }, '…');
  const { total, succeeded, failed, running } = progress;
  const part = (count, status) => (count ? h('span', { class: `progress-part step-${status}`, style: { width: `${(count / Math.max(total, 1)) * 100}%` }, title: `${count} ${status}` }) : null);
  return h('div', {
    class: 'backfill-progress', 'data-testid': 'backfill-progress',
    'data-total': total, 'data-succeeded': succeeded, 'data-failed': failed, 'data-running': running,
  },
  h('div', { class: 'progress' }, part(succeeded, 'succeeded'), part(failed, 'failed'), part(running, 'running')),
  h('span', { class: 'step-counts' },
    h('span', { class: 'count step-succeeded' }, h('span', { class: 'dot' }), formatCount(succeeded)),
    h('span', { class: 'count step-failed' }, h('span', { class: 'dot' }), formatCount(failed)),
    running ? h('span', { class: 'count step-running' }, h('span', { class: 'dot' }), formatCount(running)) : null,
    h('span', { class: 'muted' }, `/ ${formatCount(total)}`)));
}

/**
 * A table of backfills, newest first (one pipeline's, or all): their status, size and
 * progress, and a Cancel button for the running ones. `refresh()` reloads it; each
 * backfill's progress is asked for while it runs, and once more when it ends.
 */
function createBackfillList({ scope, pipeline = null, title = 'Backfills' }) {
  const tbody = h('tbody');
  const heading = h('span', {}, title);
  const more = h('button', { class: 'button small', hidden: true, 'data-testid': 'backfills-more', onclick: () => { showAll = true; refresh(); } });
  const footer = h('div', { class: 'table-footer' }, h('span', { class: 'muted small' }, 'One run per partition key, tagged weft/backfill=ID.'), more);
  const progress = new Map(); // id -> { status, progress }, from GET /api/backfills/ID
  const canceling = new Set();
  let records = [];
  let showAll = false;
  let highlighted = null;
  let inFlight = false;
  let lastSignature = '';

  const stale = (record) => progress.get(record.id)?.status !== record.status || record.status === 'RUNNING';

  async function refresh() {
    if (inFlight) return;
    inFlight = true;
    try {
      const answer = await scope.api('/api/backfills');
      records = (answer.backfills ?? []).filter((b) => !pipeline || b.pipeline === pipeline);
      // Each shown backfill's progress, at once; one that cannot be read shows none.
      const shown = showAll ? records : records.slice(0, BACKFILLS_SHOWN);
      await Promise.allSettled(shown.filter(stale).map(async (record) => {
        const detail = await scope.api(`/api/backfills/${enc(record.id)}`);
        progress.set(record.id, { status: detail.backfill.status, progress: backfillProgress(detail) });
      }));
      clearError('backfills');
      render();
    } catch (error) {
      showError(error, 'backfills');
    } finally {
      inFlight = false;
    }
  }

  async function cancel(record) {
    if (canceling.has(record.id)) return;
    canceling.add(record.id);
    render();
    try {
      await scope.api(`/api/backfills/${enc(record.id)}/cancel`, { method: 'POST' });
      clearError('backfill-cancel');
    } catch (error) {
      showError(error, 'backfill-cancel');
    } finally {
      canceling.delete(record.id);
      if (scope.alive) refresh();
    }
  }

  function render() {
    const shown = showAll ? records : records.slice(0, BACKFILLS_SHOWN);
    // Rebuilt only when something changed: a rebuild under the pointer would eat a click.
    const signature = JSON.stringify([shown.map((b) => [b.id, b.status, progress.get(b.id)?.progress]), [...canceling], highlighted]);
    heading.textContent = `${title} · ${formatCount(records.length)}`;
    more.hidden = shown.length >= records.length;
    more.textContent = `Show all ${formatCount(records.length)}`;
    if (signature === lastSignature) return;
    lastSignature = signature;
    tbody.replaceChildren(...shown.map((record) => backfillRow(record, progress.get(record.id)?.progress, {
      canceling: canceling.has(record.id), highlighted: record.id === highlighted, onCancel: () => cancel(record),
    })));
    if (!shown.length) {
      tbody.append(h('tr', {}, h('td', { colspan: 7 }, emptyState('No backfills yet',
        pipeline ? 'Select partitions in the matrix and launch a backfill: one run per partition.' : 'Launch one from a partitioned pipeline\'s Partitions tab, or with `weft backfill`.'))));
    }
  }

  const element = card({
    title: heading,
    testid: 'backfills',
    body: [
      h('table', { class: 'table backfills-table', 'data-testid': 'backfills-table' },
        h('thead', {}, h('tr', {}, ['Backfill', 'Pipeline', 'Status', 'Partitions', 'Progress', 'Created', ''].map((t) => h('th', {}, t)))),
        tbody),
      footer,
    ],
  });
  return {
    element,
    refresh,
    /** Marks a backfill just launched (its row is told apart until the page goes). */
    highlight(id) { highlighted = id; render(); },
  };
}

function backfillRow(record, progress, { canceling, highlighted, onCancel }) {
  const href = `#/backfills/${enc(record.id)}`;
  const keys = record.keys ?? [];
  return h('tr', {
    class: `clickable${highlighted ? ' fresh' : ''}`, 'data-testid': 'backfill-row', 'data-backfill': record.id, 'data-status': record.status,
    onclick: (event) => { if (!event.target.closest('a, button')) location.hash = href; },
  },
  h('td', {}, h('a', { class: 'mono strong-link', href, title: record.id }, record.id)),
  h('td', {}, h('a', { class: 'strong', href: `#/pipelines/${enc(record.pipeline)}/partitions` }, record.pipeline),
    h('div', { class: 'lineage' }, 'set ', h('code', {}, record.partition_set))),
  h('td', {}, backfillStatusPill(record.status, 'backfill-status')),
  h('td', {}, h('b', {}, formatCount(keys.length)),
    keys.length ? h('div', { class: 'lineage mono' }, keySpan(keys)) : null),
  h('td', { class: 'progress-cell' }, backfillProgressView(progress)),
  h('td', { class: 'nowrap' }, formatTime(record.created_at)),
  h('td', { class: 'row-actions' }, record.status === 'RUNNING'
    ? h('button', { class: 'button small danger', 'data-testid': 'backfill-cancel', disabled: canceling, onclick: onCancel }, canceling ? 'Canceling…' : '■ Cancel')
    : null));
}

export async function backfillsPage(scope, root) {
  root.append(pageHeader({ title: 'Backfills', subtitle: 'Every backfill in the store, newest first: one run per partition of a partitioned pipeline. Updates live.' }));
  root.firstChild.querySelector('.title-row').append(h('span', { class: 'live-indicator', title: `Refreshes every ${PARTITIONS_POLL_MS / 1000} seconds` }, h('span', { class: 'dot' }), 'Live'));
  const list = createBackfillList({ scope });
  root.append(list.element);
  await list.refresh();
  scope.every(PARTITIONS_POLL_MS, list.refresh);
}

export async function backfillPage(scope, root, id) {
  root.append(pageHeader({ eyebrow: 'Backfill', title: id }), loadingView());
  let detail = await scope.api(`/api/backfills/${enc(id)}`);
  root.lastChild.remove();
  const record = () => detail.backfill;
  const statusSlot = h('span');
  const cancelButton = h('button', { class: 'button danger', 'data-testid': 'backfill-cancel', onclick: () => cancel() }, '■ Cancel');
  const facts = h('dl', { class: 'facts run-facts' });
  const progressSlot = h('div', { class: 'progress-row' });
  const tbody = h('tbody');
  let canceling = false;
  let lastSignature = '';

  function render() {
    const b = record();
    document.title = `Backfill ${b.id.slice(-8)} · ${b.status} · weft`;
    const signature = JSON.stringify([b.status, b.ended_at, detail.partitions, canceling]);
    if (signature === lastSignature) return;
    lastSignature = signature;
    setChildren(statusSlot, backfillStatusPill(b.status, 'backfill-page-status'));
    cancelButton.hidden = b.status !== 'RUNNING';
    cancelButton.disabled = canceling;
    const fact = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
    facts.replaceChildren(
      ...fact('Pipeline', h('a', { href: `#/pipelines/${enc(b.pipeline)}/partitions` }, b.pipeline)),
      ...fact('Partition set', h('code', {}, b.partition_set)),
      ...fact('Partitions', `${formatCount(b.keys.length)} · ${keySpan(b.keys)}`),
      ...fact('Max concurrent', formatCount(b.max_concurrent)),
      ...fact('Created', formatTime(b.created_at)),
      ...fact('Ended', b.ended_at ? formatTime(b.ended_at) : b.status === 'RUNNING' ? h('span', { class: 'muted' }, 'running…') : '—'),
      ...(b.run_config && Object.keys(b.run_config).length ? fact('Run config', h('pre', { class: 'code small' }, prettyJson(b.run_config))) : []));
    setChildren(progressSlot, backfillProgressView(backfillProgress(detail)));
    tbody.replaceChildren(...(detail.partitions ?? []).map((p) => {
      const status = p.status ? runStatusOf(p) : null;
      return h('tr', { 'data-testid': 'backfill-partition', 'data-key': p.key, 'data-status': status ?? 'NOT_STARTED' },
        h('td', { class: 'mono' }, p.key),
        h('td', {}, status ? runStatusPill(status) : h('span', { class: 'muted' }, 'not started')),
        h('td', {}, p.run ? h('a', { class: 'mono', href: `#/runs/${enc(p.run)}` }, p.run) : h('span', { class: 'muted' }, '—')));
    }));
  }

  async function refresh() {
    try {
      detail = await scope.api(`/api/backfills/${enc(id)}`);
      clearError('backfill');
      render();
    } catch (error) {
      showError(error, 'backfill');
    }
  }

  async function cancel() {
    if (canceling) return;
    canceling = true;
    render();
    try {
      await scope.api(`/api/backfills/${enc(id)}/cancel`, { method: 'POST' });
    } catch (error) {
      showError(error, 'action');
    } finally {
      canceling = false;
      if (scope.alive) refresh();
    }
  }

  root.replaceChildren(
    h('div', { class: 'run-header card' },
      h('div', { class: 'run-header-top' },
        h('div', { class: 'page-heading' },
          h('div', { class: 'eyebrow' }, 'Backfill'),
          h('div', { class: 'title-row' }, h('h1', { 'data-testid': 'page-title' }, h('span', { class: 'run-title' }, h('span', { class: 'mono' }, id))), statusSlot)),
        h('div', { class: 'page-actions' },
          cancelButton,
          h('a', { class: 'button ghost', href: `#/runs${query({ tag: `${BACKFILL_TAG}=${record().id}` })}` }, 'View runs'),
          h('a', { class: 'button', href: `#/pipelines/${enc(record().pipeline)}/partitions` }, 'Partitions'))),
      facts, progressSlot),
    card({
      title: 'Partitions',
      body: h('table', { class: 'table', 'data-testid': 'backfill-partitions' },
        h('thead', {}, h('tr', {}, ['Partition', 'Latest run status', 'Run'].map((t) => h('th', {}, t)))),
        tbody),
    }));
  render();
  scope.every(PARTITIONS_POLL_MS, () => { if (record().status === 'RUNNING' || canceling) refresh(); });
}

/* ======================================================================================
 * Automation: schedules and sensors
 * ==================================================================================== */

const AUTOMATION_POLL_MS = 2000;
const TICKS_SHOWN = 5; // the latest ticks of each schedule and sensor, the rest folded

/** `2024-01-09T02:00:00+01:00[Europe/Paris]` (the API's next tick) in µs, or null. */
function parseZonedTime(text) {
  const match = /^([^[]+)(?:\[.*\])?$/.exec(String(text ?? ''));
  const ms = match ? Date.parse(match[1]) : NaN;
  return Number.isFinite(ms) ? ms * 1000 : null;
}

function tickStatusPill(status) {
  return h('span', { class: `pill tick-${String(status).toLowerCase()}`, 'data-status': status }, h('span', { class: 'dot' }), status);
}

/** One tick: when, how it ended, the partition and runs it launched, or why not. */
function tickView(tick) {
  return h('div', { class: 'tick', 'data-testid': 'tick', 'data-status': tick.status },
    tickStatusPill(tick.status),
    h('span', { class: 'nowrap small', title: `evaluated ${formatTime(tick.evaluated_at)}` }, formatTime(tick.at)),
    tick.partition ? h('span', { class: 'chip mono' }, tick.partition) : null,
    (tick.runs ?? []).map((run) => h('a', { class: 'mono small', href: `#/runs/${enc(run)}`, 'data-testid': 'tick-run', title: run }, `run ${run.slice(-8)}`)),
    tick.message ? h('span', { class: 'muted small tick-message', title: tick.message }, truncate(firstLine(tick.message), 120)) : null);
}

/** The latest ticks, newest first; older ones folded away. */
function tickList(ticks) {
  if (!ticks?.length) return h('span', { class: 'muted' }, 'No ticks yet');
  const older = ticks.slice(TICKS_SHOWN);
  return h('div', { class: 'ticks' },
    ticks.slice(0, TICKS_SHOWN).map(tickView),
    older.length ? h('details', {}, h('summary', { class: 'muted small' }, `${formatCount(older.length)} older`), older.map(tickView)) : null);
}

function nextTickView(text) {
  if (!text) return h('span', { class: 'muted' }, '—');
  const us = parseZonedTime(text);
  if (us == null) return h('span', { class: 'mono small' }, text);
  const wait = us - nowUs();
  return h('div', { title: text, 'data-testid': 'next-tick' },
    h('div', { class: 'nowrap' }, formatTime(us)),
    h('div', { class: 'muted small' }, wait >= 0 ? `in ${formatDuration(wait)}` : 'due'));
}

function schedulesCard(schedules) {
  return card({
    title: `Schedules · ${schedules.length}`,
    testid: 'schedules',
    body: schedules.length
      ? h('table', { class: 'table automation-table' },
        h('thead', {}, h('tr', {}, ['Schedule', 'Pipeline', 'Cron', 'Time zone', 'Next tick', 'Latest ticks'].map((t) => h('th', {}, t)))),
        h('tbody', {}, schedules.map((s) => h('tr', { 'data-testid': 'schedule-row', 'data-name': s.name },
          h('td', {}, h('b', {}, s.name), s.catch_up ? h('div', { class: 'lineage' }, `catches up ${formatCount(s.catch_up)} missed tick${s.catch_up === 1 ? '' : 's'}`) : null),
          h('td', {}, h('a', { href: `#/pipelines/${enc(s.pipeline)}` }, s.pipeline)),
          h('td', {}, h('code', { class: 'cron', 'data-testid': 'schedule-cron' }, s.cron)),
          h('td', { class: 'nowrap' }, s.timezone),
          h('td', {}, nextTickView(s.next_tick)),
          h('td', { class: 'ticks-cell' }, tickList(s.ticks))))))
      : emptyState('No schedules', 'Declare one with [schedules.NAME] in the manifest: a pipeline, a cron expression and a time zone.'),
  });
}

function sensorsCard(sensors) {
  return card({
    title: `Sensors · ${sensors.length}`,
    testid: 'sensors',
    body: sensors.length
      ? h('table', { class: 'table automation-table' },
        h('thead', {}, h('tr', {}, ['Sensor', 'Pipeline', 'Kind', 'Interval', 'Cursor', 'Latest ticks'].map((t) => h('th', {}, t)))),
        h('tbody', {}, sensors.map((s) => h('tr', { 'data-testid': 'sensor-row', 'data-name': s.name },
          h('td', {}, h('b', {}, s.name)),
          h('td', {}, h('a', { href: `#/pipelines/${enc(s.pipeline)}` }, s.pipeline)),
          h('td', {}, h('span', { class: 'chip' }, s.kind === 'files' ? 'file sensor' : s.kind)),
          h('td', { class: 'nowrap mono' }, formatDuration((s.interval_ms ?? 0) * 1000)),
          h('td', {}, s.cursor != null && s.cursor !== '' ? h('code', { class: 'cursor', title: String(s.cursor) }, truncate(String(s.cursor), 48)) : h('span', { class: 'muted' }, 'none')),
          h('td', { class: 'ticks-cell' }, tickList(s.ticks))))))
      : emptyState('No sensors', 'Declare one with [sensors.NAME] in the manifest: a sensor component or a watched directory.'),
  });
}

export async function automationPage(scope, root) {
  root.append(pageHeader({ title: 'Automation', subtitle: 'The schedules and sensors of the manifest and their latest ticks. The daemon (weft daemon) evaluates them.' }), loadingView());
  let answer = await scope.api('/api/automation');
  root.lastChild.remove();
  root.firstChild.querySelector('.title-row').append(h('span', { class: 'live-indicator', title: `Refreshes every ${AUTOMATION_POLL_MS / 1000} seconds` }, h('span', { class: 'dot' }), 'Live'));
  const body = h('div');
  let lastSignature = '';
  let lastMinute = 0;
  function render() {
    // Rebuilt when a tick came, and once a minute for the "in 3 h" of the next ticks.
    const minute = Math.floor(Date.now() / 60_000);
    const signature = JSON.stringify(answer);
    if (signature === lastSignature && minute === lastMinute) return;
    lastSignature = signature;
    lastMinute = minute;
    setChildren(body, schedulesCard(answer.schedules ?? []), sensorsCard(answer.sensors ?? []));
  }
  let inFlight = false;
  async function refresh() {
    if (inFlight) return;
    inFlight = true;
    try {
      answer = await scope.api('/api/automation');
      clearError('automation');
      render();
    } catch (error) {
      showError(error, 'automation');
    } finally {
      inFlight = false;
    }
  }
  root.append(body);
  render();
  scope.every(AUTOMATION_POLL_MS, refresh);
}

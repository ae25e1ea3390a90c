// weft UI: the runs list and a run page (its header, its graph coloured by step status,
// and the Gantt, event log and step panel of run-panels.js).

import {
  attemptCount, card, clearError, emptyState, enc, formatClock, formatCount, formatDuration,
  formatTime, h, hydrateStep, isAbort, isLiveStatus, loadingView, loadManifestInfo,
  manifestInfo, normalizeStep, nowUs, pageHeader, query, reloadPage, RUN_STATUSES,
  runStatusOf, runStatusPill, setChildren, showError, STEP_STATUS_LABELS, tagChips,
  truncate, upstreamKeys,
} from './lib.js';
import { createDag, DAG, statusLegend } from './dag.js';
import { BACKFILL_TAG, PARTITION_TAG } from './partitions.js';
import { stepSignature, stepTooltip } from './pipelines.js';
import { createEventLog, createGantt, createStepPanel } from './run-panels.js';

/* ======================================================================================
 * Runs list
 * ==================================================================================== */

export async function runsPage(scope, root, params) {
  root.append(pageHeader({ title: 'Runs', subtitle: 'Every run in the store, newest first. Updates live.' }));
  const filters = {
    pipeline: params.get('pipeline') ?? '', status: params.get('status') ?? '',
    tag: params.get('tag') ?? '', since: params.get('since') ?? '',
  };
  const pipelineSelect = h('select', { 'data-testid': 'filter-pipeline' }, h('option', { value: '' }, 'All pipelines'));
  const statusSelect = h('select', { 'data-testid': 'filter-status', value: filters.status },
    h('option', { value: '' }, 'All statuses'), RUN_STATUSES.map((s) => h('option', { value: s }, s)));
  const tagInput = h('input', { 'data-testid': 'filter-tag', type: 'text', placeholder: 'key=value', value: filters.tag, spellcheck: 'false' });
  const sinceInput = h('input', { 'data-testid': 'filter-since', type: 'datetime-local', value: filters.since });
  const tbody = h('tbody');
  const footer = h('div', { class: 'table-footer' });
  const liveDot = h('span', { class: 'live-indicator', title: 'Refreshes every second' }, h('span', { class: 'dot' }), 'Live');
  // Every run loaded, by id: the first page (refreshed every second) and the pages loaded
  // with "Older runs" merge here, so a new run pushing one past the first page keeps it.
  let loaded = new Map();
  let olderLoaded = false; // "Older runs" was used: `next` follows the oldest page
  let next = null;
  let lastSignature = '';
  let inFlight = false;
  let generation = 0; // bumps when the filters change: older pages of other filters are dropped
  let loadingOlder = null; // the generation of the "Older runs" request in flight
  const olderButton = h('button', { class: 'button small', 'data-testid': 'runs-older', onclick: () => loadOlder() }, 'Older runs');
  const shownCount = h('span', { class: 'muted' });

  function setPipelineOptions(names) {
    const all = [...new Set([...names, filters.pipeline].filter(Boolean))];
    setChildren(pipelineSelect, h('option', { value: '' }, 'All pipelines'), all.map((n) => h('option', { value: n }, n)));
    pipelineSelect.value = filters.pipeline;
  }
  setPipelineOptions([]);
  (manifestInfo ? Promise.resolve(manifestInfo) : loadManifestInfo(scope))
    .then((info) => setPipelineOptions(info.pipelines.map((p) => p.name)))
    .catch((error) => showError(error, 'pipelines'));

  function requestParams(before = null) {
    const since = filters.since ? new Date(filters.since).getTime() * 1000 : null;
    // "a=1, b=2" filters by both tags; an entry still being typed (no "=") is left out.
    const tags = filters.tag.split(',').map((t) => t.trim()).filter((t) => t.indexOf('=') > 0);
    return query({
      pipeline: filters.pipeline, status: filters.status, tag: tags,
      since: Number.isFinite(since) ? since : null, limit: 50, before,
    });
  }

  let ticket = 0; // answers to requests made before the filters changed are dropped
  async function refresh(force = false) {
    if (inFlight && !force) return;
    inFlight = true;
    const mine = ++ticket;
    try {
      const answer = await scope.api(`/api/runs${requestParams()}`);
      if (mine !== ticket) return;
      clearError('runs');
      mergeFirstPage(answer);
      if (!olderLoaded) next = answer.next;
      render();
    } catch (error) {
      if (mine === ticket) showError(error, 'runs');
    } finally {
      if (mine === ticket) inFlight = false;
    }
  }

  /**
   * The first page is the truth for the runs at least as new as its oldest (for all of
   * them until "Older runs" is used, or when it is the last page): a run there that it no
   * longer lists left the filter. Older runs, loaded or pushed past it by new runs, stay.
   */
  function mergeFirstPage(answer) {
    const oldest = olderLoaded && answer.next != null ? answer.runs.at(-1)?.id : null;
    for (const id of loaded.keys()) {
      if (oldest == null || id >= oldest) loaded.delete(id);
    }
    for (const run of answer.runs) loaded.set(run.id, run);
  }

  async function loadOlder() {
    if (loadingOlder != null || !next) return;
    const mine = generation;
    loadingOlder = mine;
    renderFooter();
    try {
      const answer = await scope.api(`/api/runs${requestParams(next)}`);
      if (mine !== generation) return;
      for (const run of answer.runs) loaded.set(run.id, run);
      olderLoaded = true;
      next = answer.next;
      render();
    } catch (error) {
      if (mine === generation) showError(error, 'runs');
    } finally {
      if (loadingOlder === mine) loadingOlder = null;
      if (scope.alive) renderFooter();
    }
  }

  // Run ids are ULIDs of one length: their text sorts as their time, newest last.
  const sortedRuns = () => [...loaded.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));

  function render() {
    const runs = sortedRuns();
    const live = runs.some((r) => isLiveStatus(runStatusOf(r)));
    // Rebuild only when something changed (or a live run's clock moved).
    const signature = JSON.stringify(runs.map((r) => [r.id, r.status, r.ended_at])) + (live ? Date.now() : '');
    if (signature !== lastSignature) {
      lastSignature = signature;
      tbody.replaceChildren(...runs.map(runRow));
      if (!runs.length) tbody.append(h('tr', {}, h('td', { colspan: 6 }, emptyState('No runs match', 'Launch a pipeline from its launchpad, or change the filters.', h('a', { class: 'button', href: '#/pipelines' }, 'Pipelines')))));
    }
    shownCount.textContent = `${formatCount(runs.length)} run${runs.length === 1 ? '' : 's'} shown`;
    renderFooter();
  }

  function renderFooter() {
    olderButton.hidden = !next;
    olderButton.disabled = loadingOlder != null;
    olderButton.textContent = loadingOlder != null ? 'Loading…' : 'Older runs';
    if (!footer.firstChild) footer.append(shownCount, olderButton);
  }

  function onFilterChange() {
    filters.pipeline = pipelineSelect.value;
    filters.status = statusSelect.value;
    filters.tag = tagInput.value;
    filters.since = sinceInput.value;
    generation++;
    loaded = new Map();
    olderLoaded = false;
    next = null;
    loadingOlder = null;
    lastSignature = '';
    // Keep the filters in the address, without a navigation.
    history.replaceState(null, '', `#/runs${query(filters)}`);
    refresh(true);
  }
  pipelineSelect.addEventListener('change', onFilterChange);
  statusSelect.addEventListener('change', onFilterChange);
  sinceInput.addEventListener('change', onFilterChange);
  tagInput.addEventListener('input', scope.debounce(onFilterChange, 300));

  root.firstChild.querySelector('.title-row').append(liveDot);
  root.append(card({
    body: [
      h('div', { class: 'filters' },
        h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Pipeline'), pipelineSelect),
        h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Status'), statusSelect),
        h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Tag'), tagInput),
        h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Created since'), sinceInput)),
      h('table', { class: 'table runs-table', 'data-testid': 'runs-table' },
        h('thead', {}, h('tr', {}, ['Run', 'Pipeline', 'Status', 'Created', 'Duration', 'Tags'].map((t) => h('th', {}, t)))),
        tbody),
      footer,
    ],
  }));
  await refresh();
  scope.every(1000, refresh);
}

function runDuration(run) {
  const status = runStatusOf(run);
  if (!run.started_at) return null;
  return (run.ended_at ?? (isLiveStatus(status) ? nowUs() : null)) - run.started_at;
}

function runRow(run) {
  const status = runStatusOf(run);
  const href = `#/runs/${enc(run.id)}`;
  const duration = runDuration(run);
  return h('tr', {
    class: 'clickable', 'data-testid': 'run-row', 'data-run': run.id, 'data-status': status,
    onclick: (event) => { if (!event.target.closest('a')) location.hash = href; },
  },
  h('td', {},
    h('a', { class: 'mono strong-link', href, title: run.id }, run.id),
    run.parent_run ? h('div', { class: 'lineage' }, '↻ re-execution of ', h('a', { class: 'mono', href: `#/runs/${enc(run.parent_run)}` }, run.parent_run)) : null,
    run.step_selection ? h('div', { class: 'lineage' }, 'selection: ', h('code', {}, truncate(run.step_selection, 40))) : null),
  h('td', { class: 'strong' }, run.pipeline),
  h('td', {}, runStatusPill(status)),
  h('td', { class: 'nowrap' }, formatTime(run.created_at)),
  h('td', { class: 'nowrap mono' }, duration == null ? '—' : formatDuration(duration)),
  h('td', {}, tagChips(run.tags)));
}

/* ======================================================================================
 * Run page
 * ==================================================================================== */

/** What the last event of a run's log says of its status (the summary confirms it). */
const RUN_END_STATUS = { run_succeeded: 'SUCCESS', run_failed: 'FAILURE', run_canceled: 'CANCELED', run_interrupted: 'INTERRUPTED' };
const statusFromLog = (events) => (events.length ? RUN_END_STATUS[events.at(-1).event] ?? 'STARTED' : 'QUEUED');

/** Events that move a step or the run on: the ones a run summary has to be refreshed for. */
const LIFECYCLE_EVENTS = new Set([
  'step_started', 'step_succeeded', 'step_failed', 'step_retry', 'step_skipped', 'step_canceled', 'step_reused',
]);
const isLifecycleEvent = (type) => LIFECYCLE_EVENTS.has(type) || String(type ?? '').startsWith('run_');
const SUMMARY_MIN_GAP_MS = 1000; // at most one summary request a second...
const SUMMARY_GAP_FACTOR = 3; // ...and never more often than 3 times the last one took
const SUMMARY_MAX_GAP_MS = 30_000; // the most a failing summary request backs off to

export async function runPage(scope, root, runId) {
  root.classList.add('page-wide');
  // The page is built at once and the log's last page fetched with the summary: the log
  // is small and quick, the summary of 10,000 steps is not. Until the summary comes, the
  // status is the one the log's last event gives.
  let summary = null;
  let ready = false; // set once the summary is in; the stream may end before that
  let endSeen = false;
  const steps = new Map(); // key -> step summary
  let graph = null; // the pipeline's steps, when GET /api/pipelines/NAME answers
  let solids = null; // their solids' definitions (a step's fields are filled in on demand)
  let selected = new Set();
  let dag = null;
  let acting = false; // a cancel or re-execute request is in flight
  // Summary refreshes follow the log's stream: a lifecycle event newer than the summary
  // asks for one. At most one is in flight, and they are spaced by SUMMARY_MIN_GAP_MS or
  // SUMMARY_GAP_FACTOR times the last answer's time, whichever is longer.
  let lifecycleSeq = -1; // the newest lifecycle event the stream delivered
  let refreshWanted = false;
  let refreshing = false;
  let refreshTimer = 0;
  let lastRefreshAt = -Infinity;
  let refreshGap = SUMMARY_MIN_GAP_MS;
  scope.onDispose(() => clearTimeout(refreshTimer));
  const log = createEventLog({
    scope, runId, onStepClick: (key) => panel.open(key),
    onEnd: () => { endSeen = true; requestRefresh(); },
    onFirstPage: (events) => { if (!summary && events) header.provisional(runId, statusFromLog(events)); },
    onStreamEvent: (event) => {
      if (!isLifecycleEvent(event.event) || !(event.seq > lifecycleSeq)) return;
      lifecycleSeq = event.seq;
      if (!summary || event.seq > (summary.last_seq ?? -1)) requestRefresh();
    },
    totals: () => summary,
  });
  scope.onDispose(() => log.destroy());
  // The summary, the graph and the log's last page are asked for at once: the server
  // answers each on its own thread, and the page draws whichever comes first.
  lastRefreshAt = performance.now(); // the first summary spaces the refreshes too
  const summaryRequest = scope.api(`/api/runs/${enc(runId)}`)
    .then((answer) => {
      refreshGap = Math.max(SUMMARY_MIN_GAP_MS, SUMMARY_GAP_FACTOR * (performance.now() - lastRefreshAt));
      return answer;
    });
  // The graph's steps are hydrated one at a time, when the panel or a tooltip needs one.
  const graphRequest = scope.api(`/api/runs/${enc(runId)}/graph`);
  graphRequest.catch(() => {}); // handled where the graph is drawn, once the summary is in
  // The first Intl use loads the locale data (some 50 ms, once per page): let it be
  // while the requests are out, not once their answers are in.
  formatClock(0);
  formatCount(0);
  formatTime(0);

  const header = createRunHeader({
    onCancel: () => act(`/api/runs/${enc(runId)}/cancel`, null, false),
    onReexecute: (how) => act(`/api/runs/${enc(runId)}/reexecute`, how === 'steps'
      ? { how, steps: [...selected].join(',') } : { how, steps: null }, true),
    onClearSelection: () => setSelection(new Set()),
  });
  header.provisional(runId);
  const dagBody = h('div', { class: 'run-dag-body' }, loadingView('Loading the graph…'));
  const gantt = createGantt({ onStepClick: (key) => panel.open(key) });
  const panel = createStepPanel({
    scope, runId, stepOf: (key) => normalizeStep(steps.get(key)), graphStepOf: (key) => graphStep(key),
    onShowLogs: (key) => log.filterStep(key),
    // The open panel takes a column of its own: it never covers the buttons or the log.
    onToggle: (open) => root.classList.toggle('with-panel', open),
  });
  scope.onDispose(() => { gantt.destroy(); dag?.destroy(); });

  root.append(
    header.element,
    h('div', { class: 'run-grid' },
      card({ title: 'Graph', className: 'run-dag-card', actions: statusLegend(), body: dagBody }),
      card({ title: 'Timeline', className: 'run-gantt-card', body: gantt.element })),
    card({ title: 'Event log', className: 'run-log-card', body: log.element }),
    panel.element);
  try {
    summary = await summaryRequest;
  } catch (error) {
    if (!scope.alive || isAbort(error)) return;
    // Without its summary the page has nothing to show: stop the log and its stream (they
    // would keep working for a detached page) and offer to try again.
    log.destroy();
    gantt.destroy();
    root.classList.remove('with-panel');
    console.warn(error);
    root.replaceChildren(
      pageHeader({ eyebrow: 'Run', title: runId }),
      card({
        body: h('div', { class: 'card-body load-error', 'data-testid': 'run-load-error' },
          h('div', { class: 'load-error-title' }, 'This run could not be loaded'),
          h('div', { class: 'inline-error' }, `${error.kind ?? 'error'}: ${error.message}`),
          h('div', {}, h('button', { class: 'button primary', 'data-testid': 'run-retry', onclick: () => reloadPage() }, '↻ Retry'))),
      }));
    return;
  }
  const run = () => summary.run;
  const indexSteps = () => { steps.clear(); for (const step of summary.steps) steps.set(step.key, step); };
  indexSteps();

  async function act(path, body, navigate) {
    if (acting) return; // a second click while the first request runs would make two runs
    acting = true;
    header.setBusy(true);
    let leaving = false;
    try {
      const answer = await scope.api(path, { method: 'POST', body: body ?? undefined });
      if (navigate) {
        leaving = true; // the buttons stay disabled until the new run's page replaces them
        location.hash = `#/runs/${enc(answer.run.id)}`;
      } else {
        requestRefresh();
      }
    } catch (error) {
      showError(error, 'action');
    } finally {
      if (!leaving && scope.alive) {
        acting = false;
        header.setBusy(false);
      }
    }
  }

  function setSelection(keys) {
    selected = keys;
    dag?.setSelection(selected);
    if (summary) header.update(summary, graph, selected);
  }

  function onNodeClick(key, { additive }) {
    const next = new Set(additive ? selected : []);
    if (additive && next.has(key)) next.delete(key); else next.add(key);
    setSelection(next);
    if (!additive) panel.open(key);
  }

  const graphStep = (key) => hydrateStep(graph?.get(key), solids);
  // A step's signature depends on its solid only: one string per solid, not per step.
  const signatures = new Map();
  const signatureOf = (step) => {
    let signature = signatures.get(step.solid);
    if (signature === undefined) signatures.set(step.solid, (signature = stepSignature(graphStep(step.key))));
    return signature;
  };
  const statusOf = (key) => steps.get(key)?.status ?? 'pending';
  const subtitleOf = (key) => {
    const step = steps.get(key);
    if (!step) { const definition = graph?.get(key); return definition ? signatureOf(definition) : 'not reached'; }
    const end = step.end ?? (step.status === 'running' ? nowUs() : null);
    const timing = step.start != null && end != null ? ` · ${formatDuration(end - step.start)}` : '';
    const count = attemptCount(step);
    const attempts = count > 1 ? ` · ${count} attempts` : '';
    return `${STEP_STATUS_LABELS[step.status] ?? step.status}${timing}${attempts}`;
  };

  function buildDag(graphSteps, notice) {
    const nodes = new Array(graphSteps.length);
    for (let i = 0; i < graphSteps.length; i++) {
      const key = graphSteps[i].key;
      nodes[i] = { key, upstream: upstreamKeys(graphSteps[i]), title: key, status: statusOf(key) };
    }
    // Steps the run names that the manifest no longer has still get a node.
    for (const step of summary.steps) {
      if (!graph?.has(step.key)) nodes.push({ key: step.key, upstream: [], title: step.key, status: step.status ?? 'pending' });
    }
    // Tooltips only for an SVG graph (a <title> per node); a canvas shows its own on hover.
    if (nodes.length <= DAG.svgLimit) {
      for (let i = 0; i < graphSteps.length; i++) nodes[i].tooltip = stepTooltip(hydrateStep(graphSteps[i], solids));
    }
    dag = createDag({ nodes, testid: 'run-dag', onNodeClick, subtitleOf });
    setChildren(dagBody, dag.element, notice ? h('div', { class: 'dag-notice' }, notice) : null);
    dag.setSelection(selected);
    header.update(summary, graph, selected);
  }

  graphRequest
    .then((pipeline) => {
      if (!scope.alive) return;
      solids = pipeline.solids ?? {};
      graph = new Map();
      for (const step of pipeline.steps) graph.set(step.key, step);
      buildDag(pipeline.steps, null);
      updateStepKeys();
    })
    .catch((error) => {
      if (isAbort(error) || !scope.alive) return;
      // Without the pipeline (renamed, or its manifest broken) the run's steps are still drawn.
      buildDag([], `The pipeline's graph is unavailable (${error.message}); showing the run's steps without wiring.`);
    });

  /** Asks for a summary refresh; it comes when the spacing allows, and only for a live run. */
  function requestRefresh() {
    refreshWanted = true;
    pumpRefresh();
  }

  function pumpRefresh() {
    if (!ready || !refreshWanted || refreshing || refreshTimer || !scope.alive) return;
    // A finished run's summary is final: it needs no more refreshes.
    if (!isLiveStatus(runStatusOf(run()))) { refreshWanted = false; return; }
    const wait = lastRefreshAt + refreshGap - performance.now();
    if (wait > 0) {
      refreshTimer = setTimeout(() => { refreshTimer = 0; pumpRefresh(); }, wait);
      return;
    }
    refreshSummary();
  }

  async function refreshSummary() {
    refreshWanted = false;
    refreshing = true;
    const started = performance.now();
    lastRefreshAt = started;
    let failed = false;
    try {
      summary = await scope.api(`/api/runs/${enc(runId)}`);
      clearError('summary');
      indexSteps();
      render();
    } catch (error) {
      if (isAbort(error) || !scope.alive) return;
      failed = true;
      showError(error, 'summary');
    } finally {
      refreshing = false;
      const took = performance.now() - started;
      refreshGap = failed
        ? Math.min(SUMMARY_MAX_GAP_MS, Math.max(refreshGap * 2, SUMMARY_GAP_FACTOR * took))
        : Math.max(SUMMARY_MIN_GAP_MS, SUMMARY_GAP_FACTOR * took);
      // Events that came while it was on its way, or a failure, ask for another.
      if (failed || lifecycleSeq > (summary.last_seq ?? -1)) refreshWanted = true;
      pumpRefresh();
    }
  }

  /** What moves with the clock alone: durations of the run and its running steps. */
  function renderClocks() {
    header.update(summary, graph, selected);
    gantt.update(summary);
    dag?.update(statusOf, subtitleOf);
    panel.refresh();
  }

  /** The log's step filter: every step of the pipeline and of the run (it only grows). */
  let stepKeyCount = -1;
  function updateStepKeys() {
    let count = graph?.size ?? 0;
    for (const key of steps.keys()) if (!graph?.has(key)) count++;
    if (count === stepKeyCount) return;
    stepKeyCount = count;
    log.setStepKeys([...new Set([...(graph?.keys() ?? []), ...steps.keys()])]);
  }

  function render() {
    renderClocks();
    log.refreshInfo();
    updateStepKeys();
  }
  render();
  ready = true;
  // What the stream delivered before the summary came, unless the summary has it already.
  refreshWanted = endSeen || lifecycleSeq > (summary.last_seq ?? -1);
  pumpRefresh();
  scope.every(1000, () => {
    if (!isLiveStatus(runStatusOf(run()))) return;
    renderClocks();
    // A filtered or closed stream may not carry the lifecycle events: poll instead (still
    // spaced by the response time).
    if (!log.seesLifecycle()) requestRefresh();
  });
  const onKey = (event) => { if (event.key === 'Escape') panel.close(); };
  document.addEventListener('keydown', onKey);
  scope.onDispose(() => document.removeEventListener('keydown', onKey));
}

function createRunHeader({ onCancel, onReexecute, onClearSelection }) {
  const statusSlot = h('span');
  const facts = h('dl', { class: 'facts run-facts' });
  const progress = h('div', { class: 'progress' });
  const counts = h('div', { class: 'step-counts' });
  const cancel = h('button', { class: 'button danger', 'data-testid': 'cancel-run', hidden: true, onclick: onCancel }, '■ Cancel');
  const all = h('button', { class: 'button', 'data-testid': 'reexecute-all', onclick: () => onReexecute('all') }, '↻ Re-execute all');
  const fromFailure = h('button', { class: 'button', 'data-testid': 'reexecute-failure', disabled: true, onclick: () => onReexecute('from_failure') }, '↻ From failure');
  const selectedButton = h('button', { class: 'button', 'data-testid': 'reexecute-selected', disabled: true, onclick: () => onReexecute('steps') }, '↻ Selected (0)');
  const clearSelection = h('button', { class: 'link-button small', hidden: true, onclick: onClearSelection }, 'clear selection');
  const title = h('span', { class: 'run-title' }, 'Run ', h('span', { class: 'mono' }, ''));
  const element = h('div', { class: 'run-header card' },
    h('div', { class: 'run-header-top' },
      h('div', { class: 'page-heading' },
        h('div', { class: 'eyebrow' }, 'Run'),
        h('div', { class: 'title-row' }, h('h1', { 'data-testid': 'page-title' }, title), statusSlot)),
      h('div', { class: 'page-actions' }, cancel, all, fromFailure, h('span', { class: 'with-aside' }, selectedButton, clearSelection))),
    facts, h('div', { class: 'progress-row' }, progress, counts));
  let lastStatus = '';
  let busy = false; // a cancel or re-execute request is in flight: every action waits
  let can = { fromFailure: false, selected: false }; // what the run allows, from the last update

  function applyButtons() {
    cancel.disabled = busy;
    all.disabled = busy;
    fromFailure.disabled = busy || !can.fromFailure;
    selectedButton.disabled = busy || !can.selected;
    element.classList.toggle('busy', busy);
  }

  /** Disables the actions while one's request runs (a double click would launch twice). */
  function setBusy(value) {
    busy = value;
    applyButtons();
  }

  function showStatus(status) {
    if (status === lastStatus) return;
    setChildren(statusSlot, runStatusPill(status, 'run-status'));
    lastStatus = status;
  }

  /** Before the summary: the run's id, and the status its log's last event gives. */
  function provisional(runId, status = null) {
    title.lastChild.textContent = runId;
    document.title = `Run ${runId.slice(-8)} · weft`;
    if (status) showStatus(status);
  }

  function update(summary, graph, selected) {
    const run = summary.run;
    const status = runStatusOf(run);
    const live = isLiveStatus(status);
    title.lastChild.textContent = run.id;
    document.title = `Run ${run.id.slice(-8)} · ${status} · weft`;
    showStatus(status);
    const notSucceeded = summary.steps.some((s) => s.status !== 'succeeded' && s.status !== 'reused')
      || status !== 'SUCCESS' || (graph && graph.size > summary.steps.length);
    cancel.hidden = !live;
    can = { fromFailure: !live && notSucceeded, selected: selected.size > 0 };
    applyButtons();
    selectedButton.textContent = `↻ Selected (${selected.size})`;
    selectedButton.title = selected.size ? [...selected].join(', ') : 'Click steps in the graph (Ctrl/⌘-click for more) to select them';
    clearSelection.hidden = selected.size === 0;

    const duration = runDuration(run);
    const fact = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
    facts.replaceChildren(
      ...fact('Pipeline', h('a', { href: `#/pipelines/${enc(run.pipeline)}` }, run.pipeline)),
      ...fact('Created', formatTime(run.created_at)),
      ...fact('Started', formatTime(run.started_at)),
      ...fact('Ended', run.ended_at ? formatTime(run.ended_at) : live ? h('span', { class: 'muted' }, 'running…') : '—'),
      ...fact('Duration', h('span', { class: 'mono' }, duration == null ? '—' : formatDuration(duration))),
      ...(run.run_config?.mode ? fact('Mode', run.run_config.mode) : []),
      ...(run.step_selection ? fact('Selection', h('code', {}, run.step_selection)) : []),
      ...(run.parent_run ? fact('Parent run', h('a', { class: 'mono', 'data-testid': 'parent-run-link', href: `#/runs/${enc(run.parent_run)}` }, run.parent_run)) : []),
      ...(run.root_run && run.root_run !== run.parent_run ? fact('Root run', h('a', { class: 'mono', href: `#/runs/${enc(run.root_run)}` }, run.root_run)) : []),
      ...(run.tags?.[PARTITION_TAG] ? fact('Partition', h('a', { class: 'mono', 'data-testid': 'run-partition', href: `#/pipelines/${enc(run.pipeline)}/partitions` }, run.tags[PARTITION_TAG])) : []),
      ...(run.tags?.[BACKFILL_TAG] ? fact('Backfill', h('a', { class: 'mono', 'data-testid': 'run-backfill', href: `#/backfills/${enc(run.tags[BACKFILL_TAG])}` }, run.tags[BACKFILL_TAG])) : []),
      ...fact('Tags', tagChips(run.tags)),
      ...fact('Events', `${formatCount(summary.events)} · ${formatCount(summary.log_lines)} log lines`));

    // A bar of the steps by status, over every step of the pipeline when it is known.
    const tally = {};
    for (const step of summary.steps) tally[step.status] = (tally[step.status] ?? 0) + 1;
    const total = Math.max(graph?.size ?? 0, summary.steps.length, 1);
    const reached = summary.steps.length;
    if (graph && graph.size > reached) tally.pending = (tally.pending ?? 0) + graph.size - reached;
    const order = ['succeeded', 'reused', 'failed', 'running', 'up_for_retry', 'skipped', 'canceled', 'pending'];
    progress.replaceChildren(...order.filter((s) => tally[s]).map((s) =>
      h('span', { class: `progress-part step-${s}`, style: { width: `${(tally[s] / total) * 100}%` }, title: `${tally[s]} ${s}` })));
    counts.replaceChildren(...order.filter((s) => tally[s]).map((s) => h('span', { class: `count step-${s}` }, h('span', { class: 'dot' }), `${formatCount(tally[s])} ${STEP_STATUS_LABELS[s].toLowerCase()}`)));
  }
  return { element, update, provisional, setBusy };
}

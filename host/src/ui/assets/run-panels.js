// weft UI: the parts of a run page that show its steps: the Gantt, the event log and the
// step panel.

import {
  ApiError, attemptsOf, clearError, emptyState, enc, escapeHtml, firstLine, formatBytes,
  formatClock, formatCount, formatDuration, formatTime, h, iconButton, isAbort,
  isLiveStatus, loadingView, metadataTable, nowUs, prettyJson, query, runStatusOf, section,
  setChildren, showError, STEP_STATUS_LABELS, stepStatusPill, truncate, VirtualList,
} from './lib.js';

/* ======================================================================================
 * Run page parts
 * ==================================================================================== */

/* ---- Gantt: one row per step, one bar per attempt, on a shared time axis ---------- */

const GANTT_ROW_HEIGHT = 26;

/** Round step sizes for a time axis: 1, 2, 5 × 10^k µs. */
function niceStep(rough) {
  const power = 10 ** Math.floor(Math.log10(Math.max(rough, 1)));
  for (const m of [1, 2, 5, 10]) if (m * power >= rough) return m * power;
  return 10 * power;
}

export function createGantt({ onStepClick }) {
  let rows = [];
  let origin = 0;
  let span = 1;
  let clock = 0; // "now" for bars still running, fixed per render
  const axis = h('div', { class: 'gantt-axis' });
  const head = h('div', { class: 'gantt-head' }, h('div', { class: 'gantt-label' }, 'Step'), axis);
  const list = new VirtualList({ rowHeight: GANTT_ROW_HEIGHT, className: 'gantt-rows', renderRow: (i) => ganttRow(rows[i]) });
  const empty = h('div', { class: 'gantt-empty' }, loadingView());
  const element = h('div', { class: 'gantt', 'data-testid': 'gantt' }, head, list.element, empty);
  list.element.addEventListener('click', (event) => {
    const row = event.target.closest('[data-step]');
    if (row) onStepClick(row.dataset.step);
  });
  let axisWidth = 0;
  // Sizes are taken where layout is fresh (resize observers), never read mid-build.
  const resizeObserver = new ResizeObserver((entries) => {
    for (const entry of entries) {
      if (entry.target === axis) axisWidth = entry.contentRect.width;
      // The rows scroll and the head does not: line them up past the scrollbar.
      else head.style.paddingRight = `${list.element.offsetWidth - list.element.clientWidth}px`;
    }
    renderAxis();
  });
  resizeObserver.observe(axis);
  resizeObserver.observe(list.element);

  const percent = (us) => `${((us - origin) / span) * 100}%`;

  function ganttRow(step) {
    const bars = [];
    const attempts = attemptsOf(step);
    attempts.forEach((attempt, i) => {
      const end = attempt.end ?? clock;
      bars.push(h('div', {
        class: `gantt-bar step-${attempt.status}`, 'data-testid': 'gantt-bar', 'data-attempt': attempt.attempt, 'data-status': attempt.status,
        style: { left: percent(attempt.start), width: `${Math.max(0, ((end - attempt.start) / span) * 100)}%` },
        title: `${step.key} · attempt ${attempt.attempt} · ${STEP_STATUS_LABELS[attempt.status] ?? attempt.status} · ${formatDuration(end - attempt.start)}${attempt.error ? `\n${attempt.error.kind}: ${attempt.error.message}` : ''}`,
      }));
      // The wait before a retry, as a dashed line between attempts.
      const following = attempts[i + 1];
      if (attempt.end != null && (following || step.status === 'up_for_retry')) {
        const waitEnd = following ? following.start : clock;
        bars.push(h('div', { class: 'gantt-wait', style: { left: percent(attempt.end), width: `${Math.max(0, ((waitEnd - attempt.end) / span) * 100)}%` } }));
      }
    });
    if (!attempts.length && step.start != null) {
      // Skipped, reused or canceled without running: a marker where it happened.
      bars.push(h('div', { class: `gantt-marker step-${step.status}`, style: { left: percent(step.start) }, title: `${step.key} · ${STEP_STATUS_LABELS[step.status]}` }));
    }
    const end = step.end ?? (step.status === 'running' ? clock : null);
    return h('div', { class: 'gantt-row', 'data-testid': 'gantt-row', 'data-step': step.key, 'data-status': step.status },
      h('div', { class: 'gantt-label', title: step.key }, h('span', { class: `dot step-${step.status}` }), h('span', { class: 'gantt-name' }, step.key),
        h('span', { class: 'gantt-time' }, step.start != null && end != null ? formatDuration(end - step.start) : '')),
      h('div', { class: 'gantt-track' }, bars));
  }

  function renderAxis() {
    const width = axisWidth;
    if (!width) return;
    const step = niceStep(span / Math.max(1, width / 90));
    const ticks = [];
    for (let offset = 0; offset <= span; offset += step) {
      ticks.push(h('span', { class: 'gantt-tick', style: { left: `${(offset / span) * 100}%` } }, offset === 0 ? '0' : formatDuration(offset)));
    }
    axis.replaceChildren(...ticks);
    element.style.setProperty('--tick', `${(step / span) * width}px`);
  }

  return {
    element,
    update(summary) {
      const run = summary.run;
      clock = nowUs();
      // A compact step (its one attempt left out) has an attempt.
      rows = summary.steps.filter((s) => s.start != null || !s.attempts || s.attempts.length);
      // In order of start; the API lists steps in order of first event, nearly that already.
      let sorted = true;
      for (let i = 1; i < rows.length && sorted; i++) sorted = (rows[i - 1].start ?? Infinity) <= (rows[i].start ?? Infinity);
      if (!sorted) rows.sort((a, b) => (a.start ?? Infinity) - (b.start ?? Infinity));
      let first = Infinity;
      let last = -Infinity;
      for (const step of rows) {
        first = Math.min(first, step.start ?? Infinity);
        last = Math.max(last, step.end ?? step.start ?? -Infinity);
        if (!step.attempts) last = Math.max(last, step.end ?? clock);
        else for (const attempt of step.attempts) last = Math.max(last, attempt.end ?? clock);
      }
      origin = run.started_at ?? (Number.isFinite(first) ? first : clock);
      const finish = run.ended_at ?? (isLiveStatus(runStatusOf(run)) ? clock : last);
      span = Math.max(1000, Math.max(finish, last) - origin);
      setChildren(empty, emptyState('No step has started yet'));
      empty.hidden = rows.length > 0;
      list.setCount(rows.length);
      renderAxis();
    },
    destroy() { list.destroy(); resizeObserver.disconnect(); },
  };
}

/* ---- Event log: newest page first, older pages on scroll-up, live tail by SSE ------ */

const LOG_ROW_HEIGHT = 28;
const LOG_PAGE = 200;
const LOG_MAX_IN_MEMORY = 20000; // beyond this, the oldest are dropped while tailing (re-paged on scroll-up)

const EVENT_TYPES = {
  run_started: ['RUN_STARTED', 'info'], run_succeeded: ['RUN_SUCCESS', 'success'], run_failed: ['RUN_FAILURE', 'error'],
  run_canceled: ['RUN_CANCELED', 'muted'], run_interrupted: ['RUN_INTERRUPTED', 'warning'],
  step_started: ['STEP_START', 'info'], step_output: ['STEP_OUTPUT', 'neutral'], step_succeeded: ['STEP_SUCCESS', 'success'],
  step_failed: ['STEP_FAILURE', 'error'], step_retry: ['STEP_RETRY', 'warning'], step_skipped: ['STEP_SKIPPED', 'muted'],
  step_canceled: ['STEP_CANCELED', 'muted'], step_reused: ['STEP_REUSED', 'teal'], log: ['LOG', 'neutral'],
  expectation: ['EXPECTATION', 'neutral'], materialization: ['MATERIALIZATION', 'accent'], compute_logs: ['COMPUTE_LOGS', 'neutral'],
};

const errorLine = (error) => (error ? `${error.kind}: ${error.message}` : 'unknown error');

/** One line saying what an event is. */
function eventMessage(event) {
  switch (event.event) {
    case 'run_started': return `Run of ${event.pipeline} started`;
    case 'run_succeeded': return `Run succeeded in ${formatDuration(event.duration_us)}`;
    case 'run_failed': return `Run failed after ${formatDuration(event.duration_us)}: ${event.message}`;
    case 'run_canceled': return `Run canceled after ${formatDuration(event.duration_us)}`;
    case 'run_interrupted': return `Run interrupted: ${event.message}`;
    case 'step_started': return `Attempt ${event.attempt} started`;
    case 'step_output': return `Output ${event.output}: ${event.value_type} = ${event.preview} (${formatBytes(event.size)})`;
    case 'step_succeeded': return `Succeeded in ${formatDuration(event.duration_us)}`;
    case 'step_failed': return `Failed after ${formatDuration(event.duration_us)}: ${errorLine(event.error)}`;
    case 'step_retry': return `Attempt ${event.attempt} failed (${errorLine(event.error)}); retrying in ${formatDuration(event.delay_us)}`;
    case 'step_skipped': return `Skipped: ${event.reason}`;
    case 'step_canceled': return `Canceled: ${event.reason}`;
    case 'step_reused': return `Reused the outputs of run ${event.from_run}: ${event.reason}`;
    case 'log': return event.message;
    case 'expectation': return `${event.success ? '✓ passed' : '✗ failed'}: ${event.label}${event.description ? ` — ${event.description}` : ''}`;
    case 'materialization': return `Materialized ${event.asset_key}${event.description ? ` — ${event.description}` : ''}`;
    case 'compute_logs': return `Attempt ${event.attempt}: stdout ${formatBytes(event.stdout_bytes)}, stderr ${formatBytes(event.stderr_bytes)}`;
    default: return JSON.stringify(event);
  }
}

/** The text with its first case-insensitive match of `needle` marked. */
function highlight(text, needle) {
  const at = needle ? text.toLowerCase().indexOf(needle.toLowerCase()) : -1;
  if (at < 0) return text;
  return [text.slice(0, at), h('mark', {}, text.slice(at, at + needle.length)), text.slice(at + needle.length)];
}

/** How loud an event is: a log's own level, else from its kind. */
function eventLevel(event) {
  if (event.event === 'log') return event.level === 'warning' ? 'warn' : event.level;
  if (event.event === 'step_failed' || event.event === 'run_failed' || (event.event === 'expectation' && !event.success)) return 'error';
  if (event.event === 'step_retry' || event.event === 'run_interrupted') return 'warn';
  return 'info';
}

/** The message of a stream's `event: error`: the server's text, or an API error's JSON. */
function streamErrorMessage(data) {
  try {
    const parsed = JSON.parse(data);
    if (typeof parsed === 'string') return parsed;
    if (parsed?.error?.message) return parsed.error.message;
    if (parsed?.message) return parsed.message;
  } catch { /* plain text */ }
  return String(data);
}

export function createEventLog({ scope, runId, onStepClick, onEnd, onFirstPage, onStreamEvent, totals }) {
  const filters = { step: '', level: 'all', type: '', q: '' };
  let events = [];
  let prevCursor = null; // `before` of the page before the first loaded event, null at the start
  let lastSeq = null; // the newest event considered; the stream resumes after it
  let source = null;
  let pending = [];
  let flushFrame = 0;
  let generation = 0; // bumps on every reload; answers of older loads are dropped
  let loadingOlder = false;
  let unseen = 0;
  let selectedSeq = null;

  const stepSelect = h('select', { 'data-testid': 'log-filter-step', 'aria-label': 'Step' }, h('option', { value: '' }, 'All steps'));
  const levelSelect = h('select', { 'data-testid': 'log-filter-level', 'aria-label': 'Level' },
    [['all', 'All levels'], ['debug', 'Debug+'], ['info', 'Info+'], ['warning', 'Warning+'], ['error', 'Error']].map(([value, label]) => h('option', { value }, label)));
  const typeSelect = h('select', { 'data-testid': 'log-filter-type', 'aria-label': 'Event type' },
    h('option', { value: '' }, 'All event types'), Object.entries(EVENT_TYPES).map(([type, [label]]) => h('option', { value: type }, label)));
  const searchInput = h('input', { 'data-testid': 'log-search', type: 'search', placeholder: 'Search events…', spellcheck: 'false' });
  const info = h('span', { class: 'log-info muted' });
  const jump = h('button', { class: 'jump-latest', hidden: true, onclick: () => { list.scrollToBottom(); hideJump(); } }, '');
  const topNote = h('div', { class: 'log-top-note', hidden: true }, loadingView('Loading older events…'));
  const detail = h('div', { class: 'event-detail', hidden: true, 'data-testid': 'event-detail' });
  const list = new VirtualList({ rowHeight: LOG_ROW_HEIGHT, className: 'log-rows', renderRow: (i) => eventRow(events[i]), onScroll: onListScroll, overscan: 12 });
  const element = h('div', { class: 'event-log', 'data-testid': 'event-log' },
    h('div', { class: 'log-toolbar' }, stepSelect, levelSelect, typeSelect, searchInput, info),
    h('div', { class: 'log-head' }, h('span', {}, 'Time'), h('span', {}, 'Step'), h('span', {}, 'Type'), h('span', {}, 'Message')),
    h('div', { class: 'log-body' }, topNote, list.element, jump),
    detail);

  function eventRow(event) {
    const [label, tone] = EVENT_TYPES[event.event] ?? [event.event, 'neutral'];
    const level = eventLevel(event);
    return h('div', {
      class: `log-row lvl-${level}${event.seq === selectedSeq ? ' selected' : ''}`,
      'data-testid': 'event-row', 'data-seq': event.seq, 'data-type': event.event,
    },
    h('span', { class: 'log-time' }, formatClock(event.timestamp)),
    h('span', { class: 'log-step' }, event.step ? h('button', { class: 'link-button', 'data-step-link': event.step, title: event.step }, event.step) : h('span', { class: 'muted' }, '—')),
    h('span', { class: 'log-type' }, h('span', { class: `type-tag tone-${tone}` }, event.event === 'log' ? String(event.level).toUpperCase() : label)),
    h('span', { class: 'log-message', title: event.event === 'log' ? event.message : '' }, highlight(firstLine(eventMessage(event)), filters.q)));
  }

  // One listener for all rows: clicking a step name opens its panel, a row its details.
  list.element.addEventListener('click', (event) => {
    const stepLink = event.target.closest('[data-step-link]');
    if (stepLink) { onStepClick(stepLink.dataset.stepLink); return; }
    const row = event.target.closest('.log-row');
    if (!row) return;
    const seq = Number(row.dataset.seq);
    selectedSeq = selectedSeq === seq ? null : seq;
    const found = events.find((e) => e.seq === seq);
    detail.hidden = selectedSeq == null || !found;
    if (found) {
      setChildren(detail, 
        h('div', { class: 'event-detail-head' }, h('b', {}, `#${found.seq} · ${EVENT_TYPES[found.event]?.[0] ?? found.event}`), h('span', { class: 'muted' }, formatTime(found.timestamp)),
          iconButton('×', 'Close', () => { selectedSeq = null; detail.hidden = true; list.refresh(); })),
        h('pre', { class: 'code small' }, JSON.stringify(found, null, 2)));
    }
    list.refresh();
  });

  const filterParams = () => ({
    step: filters.step, level: filters.level === 'all' ? '' : filters.level, type: filters.type, q: filters.q,
  });

  async function reload() {
    const ticket = ++generation;
    closeStream();
    events = [];
    pending = [];
    prevCursor = null;
    lastSeq = null;
    hideJump();
    list.setCount(0);
    renderInfo('Loading…');
    try {
      const page = await scope.api(`/api/runs/${enc(runId)}/events${query({ tail: 1, limit: LOG_PAGE, ...filterParams() })}`);
      if (ticket !== generation) return;
      clearError('log');
      events = page.events;
      prevCursor = page.prev ?? null;
      lastSeq = Math.max(page.last_seq ?? -1, events.at(-1)?.seq ?? -1);
      if (lastSeq < 0) lastSeq = null;
      list.setCount(events.length);
      list.scrollToBottom();
      renderInfo();
      if (ticket === 1) onFirstPage?.(events);
      openStream(ticket);
    } catch (error) {
      if (ticket === generation) { showError(error, 'log'); renderInfo('Could not load the events.'); }
      if (ticket === 1) onFirstPage?.(null);
    }
  }

  function openStream(ticket) {
    if (typeof EventSource === 'undefined') return;
    const params = filterParams();
    if (lastSeq != null) params.after = lastSeq;
    const stream = new EventSource(`/api/runs/${enc(runId)}/events/stream${query(params)}`);
    source = stream;
    stream.addEventListener('event', (message) => {
      if (ticket !== generation) return;
      let event;
      try { event = JSON.parse(message.data); } catch (error) { console.error('bad event', error); return; }
      pending.push(event);
      if (!flushFrame) flushFrame = requestAnimationFrame(flush);
      onStreamEvent?.(event);
    });
    stream.addEventListener('end', () => {
      if (ticket !== generation) return;
      flush();
      closeStream();
      onEnd?.();
    });
    stream.addEventListener('error', (message) => {
      if (ticket !== generation) return;
      // The server's `event: error` (a store error) carries its message and ends the
      // stream: show it, and close, or EventSource would reconnect into it again and again.
      if (typeof message.data === 'string' && message.data) {
        flush();
        closeStream();
        showError(new ApiError(0, { kind: 'stream', message: `The live event stream failed: ${streamErrorMessage(message.data)}` }), 'stream');
        return;
      }
      // A lost connection has no data: EventSource reconnects by itself (resuming after
      // Last-Event-ID); only a refusal closes it.
      if (stream.readyState === EventSource.CLOSED) {
        if (source === stream) source = null;
        showError(new ApiError(0, { kind: 'stream', message: 'The live event stream was refused by the server; reload the page to resume live updates.' }), 'stream');
      }
    });
  }

  function closeStream() {
    source?.close();
    source = null;
    cancelAnimationFrame(flushFrame);
    flushFrame = 0;
  }

  /** Appends what the stream delivered since the last frame, in one DOM update. */
  function flush() {
    flushFrame = 0;
    if (!pending.length) return;
    const atBottom = list.isAtBottom() || list.pinned;
    let added = 0;
    for (const event of pending) {
      if (lastSeq != null && event.seq <= lastSeq) continue;
      events.push(event);
      lastSeq = event.seq;
      added++;
    }
    pending = [];
    if (!added) return;
    if (atBottom && events.length > LOG_MAX_IN_MEMORY) {
      events.splice(0, events.length - LOG_MAX_IN_MEMORY);
      prevCursor = events[0].seq;
    }
    list.setCount(events.length);
    if (atBottom) list.scrollToBottom();
    else { unseen += added; jump.hidden = false; jump.textContent = `↓ ${formatCount(unseen)} new event${unseen === 1 ? '' : 's'}`; }
    renderInfo();
  }

  function hideJump() { unseen = 0; jump.hidden = true; }

  function onListScroll() {
    if (list.isAtBottom()) hideJump();
    if (list.top < LOG_ROW_HEIGHT * 8 && prevCursor != null && !loadingOlder && events.length) loadOlder();
  }

  async function loadOlder() {
    const ticket = generation;
    loadingOlder = true;
    topNote.hidden = false;
    try {
      const page = await scope.api(`/api/runs/${enc(runId)}/events${query({ before: prevCursor, limit: LOG_PAGE, ...filterParams() })}`);
      if (ticket !== generation) return;
      const firstSeq = events[0]?.seq ?? Infinity;
      const older = page.events.filter((e) => e.seq < firstSeq);
      prevCursor = page.prev ?? null;
      if (older.length) {
        // Keep the rows the user is reading where they are on screen.
        const keep = list.top;
        events = older.concat(events);
        list.setCount(events.length);
        list.scrollTo(keep + older.length * LOG_ROW_HEIGHT);
      }
      renderInfo();
    } catch (error) {
      showError(error, 'log');
    } finally {
      loadingOlder = false;
      topNote.hidden = true;
    }
  }

  function renderInfo(text) {
    if (text) { info.textContent = text; return; }
    const total = totals()?.events;
    const filtered = filters.step || filters.level !== 'all' || filters.type || filters.q;
    info.textContent = `${formatCount(events.length)} loaded${filtered ? ' (filtered)' : ''}${total != null ? ` · ${formatCount(total)} in the run` : ''}${prevCursor != null ? ' · scroll up for older' : ''}`;
  }

  // A <select> of thousands of options makes every layout of the page slow (Chromium
  // styles each option), so a huge run's options are filled in when the user opens it.
  const EAGER_OPTIONS = 2000;
  let stepKeys = [];
  let optionsFilled = 0;
  function setStepKeys(keys) {
    if (keys.length === stepKeys.length) return; // only grows; cheap check keeps the options stable
    stepKeys = keys;
    if (keys.length <= EAGER_OPTIONS) fillStepOptions();
  }
  function fillStepOptions() {
    if (optionsFilled === stepKeys.length) return;
    optionsFilled = stepKeys.length;
    const all = filters.step && !stepKeys.includes(filters.step) ? [...stepKeys, filters.step] : stepKeys;
    stepSelect.innerHTML = `<option value="">All steps</option>${all.map((k) => `<option>${escapeHtml(k)}</option>`).join('')}`;
    stepSelect.value = filters.step;
  }
  for (const type of ['pointerdown', 'focus', 'keydown']) stepSelect.addEventListener(type, fillStepOptions);

  const onFilterChange = () => {
    filters.step = stepSelect.value;
    filters.level = levelSelect.value;
    filters.type = typeSelect.value;
    filters.q = searchInput.value.trim();
    selectedSeq = null;
    detail.hidden = true;
    reload();
  };
  stepSelect.addEventListener('change', onFilterChange);
  levelSelect.addEventListener('change', onFilterChange);
  typeSelect.addEventListener('change', onFilterChange);
  searchInput.addEventListener('input', scope.debounce(onFilterChange, 300));

  reload();
  return {
    element,
    setStepKeys,
    refreshInfo: () => { if (!loadingOlder) renderInfo(); },
    /**
     * Whether the open stream delivers every step and run lifecycle event: it is open,
     * and no step, type or text filter drops any (the level filter passes non-log events).
     */
    seesLifecycle: () => source != null && source.readyState !== EventSource.CLOSED && !filters.step && !filters.type && !filters.q,
    filterStep(key) {
      if (![...stepSelect.options].some((o) => o.value === key)) stepSelect.append(new Option(key, key));
      stepSelect.value = key;
      onFilterChange();
      element.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    },
    destroy() { generation++; closeStream(); list.destroy(); },
  };
}

/* ---- Step panel: one step's error, attempts, outputs, expectations, logs ----------- */

/** Step statuses after which nothing about the step changes any more. */
const FINAL_STEP_STATUSES = new Set(['succeeded', 'failed', 'skipped', 'canceled', 'reused']);

export function createStepPanel({ scope, runId, stepOf, graphStepOf, onShowLogs, onToggle }) {
  const element = h('aside', { class: 'step-panel', 'data-testid': 'step-panel', hidden: true, 'aria-label': 'Step details' });
  let key = null;
  let signature = '';
  let outputsCache = new Map(); // step -> outputs with previews
  // The parts below the step's head live as long as the panel shows one step: a summary
  // refresh re-renders the head, and each part reloads only when what it shows changed.
  let parts = {};
  let loaded = {}; // part -> what it was loaded for (a signature); absent when never
  const tickets = { outputs: 0, facts: 0, logs: 0 }; // the newest load of each part wins

  function stepSignatureOf(step) {
    return step ? `${step.status}|${step.attempts.length}|${step.end}|${step.outputs.length}|${step.materializations}|${step.expectations.passed}|${step.expectations.failed}` : 'none';
  }

  function open(stepKey) {
    if (stepKey !== key || element.hidden) {
      parts = {
        outputs: h('div', { 'data-testid': 'step-outputs', class: 'step-outputs' }, loadingView()),
        expectations: h('div', { 'data-testid': 'step-expectations' }, loadingView()),
        materializations: h('div', { 'data-testid': 'step-materializations' }, loadingView()),
        logs: h('div', { 'data-testid': 'compute-logs', class: 'compute-logs' }, loadingView()),
      };
      loaded = {};
    }
    key = stepKey;
    element.hidden = false;
    signature = '';
    onToggle?.(true);
    refresh();
  }

  function close() {
    key = null;
    element.hidden = true;
    onToggle?.(false);
  }

  /** Re-renders when the step moved on (called on each summary refresh). */
  function refresh() {
    if (!key) return;
    const step = stepOf(key);
    const next = stepSignatureOf(step);
    if (next === signature) {
      // Only a running step's clock moves.
      if (step?.status === 'running') parts.timing && setChildren(parts.timing, stepTiming(step));
      return;
    }
    signature = next;
    render(step);
  }

  function stepTiming(step) {
    const end = step.end ?? (step.status === 'running' ? nowUs() : null);
    return h('dl', { class: 'facts' },
      h('dt', {}, 'Started'), h('dd', {}, formatTime(step.start)),
      h('dt', {}, 'Ended'), h('dd', {}, formatTime(step.end)),
      h('dt', {}, 'Duration'), h('dd', { class: 'mono' }, step.start != null && end != null ? formatDuration(end - step.start) : '—'),
      h('dt', {}, 'Attempts'), h('dd', {}, String(step.attempts.length)),
      h('dt', {}, 'Expectations'), h('dd', {}, `${step.expectations.passed} passed · ${step.expectations.failed} failed`),
      h('dt', {}, 'Materializations'), h('dd', {}, String(step.materializations)));
  }

  function render(step) {
    const definition = graphStepOf(key);
    parts.timing = h('div');
    if (step) parts.timing.append(stepTiming(step));
    const reloadLogs = step?.attempts.length
      ? h('button', { class: 'link-button small', title: 'Load the compute logs again', onclick: () => loadLogs(stepOf(key) ?? step, true) }, 'reload')
      : null;
    setChildren(element,
      h('div', { class: 'step-panel-head' },
        h('div', {},
          h('div', { class: 'eyebrow' }, 'Step'),
          h('h2', { class: 'mono' }, key),
          definition && definition.solid !== key ? h('div', { class: 'muted small' }, `solid ${definition.solid}`) : null),
        h('div', { class: 'step-panel-actions' },
          step ? stepStatusPill(step.status) : stepStatusPill('pending'),
          h('button', { class: 'button small ghost', onclick: () => onShowLogs(key) }, 'Filter log'),
          iconButton('×', 'Close', close))),
      h('div', { class: 'step-panel-body' },
        step ? null : h('p', { class: 'muted' }, 'The run has not reached this step.'),
        step ? errorSection(step) : null,
        step ? parts.timing : null,
        step?.attempts.length ? section('Attempts', attemptsTable(step)) : null,
        section('Outputs', parts.outputs),
        section('Expectations', parts.expectations),
        section('Materializations', parts.materializations),
        h('div', { class: 'section' }, h('h3', {}, 'Compute logs', reloadLogs ? ' ' : null, reloadLogs), parts.logs)));
    if (step) loadDetails(step);
    else {
      for (const name of Object.keys(tickets)) tickets[name]++;
      for (const part of [parts.outputs, parts.expectations, parts.materializations, parts.logs]) part.replaceChildren(h('p', { class: 'muted' }, 'Nothing yet.'));
    }
  }

  function errorSection(step) {
    const error = step.error ?? [...step.attempts].reverse().find((a) => a.error)?.error;
    if (!error) return null;
    const earlier = step.attempts.filter((a) => a.error && a.error !== error && a.error.message !== error.message);
    return h('div', { class: 'step-error', 'data-testid': 'step-error' },
      h('div', { class: 'step-error-head' }, h('span', { class: 'error-kind' }, error.kind), error.retryable ? h('span', { class: 'badge' }, 'retryable') : null),
      h('div', { class: 'step-error-message' }, error.message),
      metadataTable(error.metadata),
      error.backtrace ? h('details', { class: 'raw', open: true }, h('summary', {}, 'WebAssembly backtrace'), h('pre', { class: 'code small', 'data-testid': 'step-backtrace' }, error.backtrace)) : null,
      earlier.length ? h('details', { class: 'raw' }, h('summary', {}, `Earlier attempts' errors (${earlier.length})`),
        earlier.map((a) => h('div', { class: 'earlier-error' }, h('b', {}, `Attempt ${a.attempt}: `), `${a.error.kind}: ${a.error.message}`))) : null);
  }

  function attemptsTable(step) {
    return h('table', { class: 'table compact' },
      h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Status'), h('th', {}, 'Started'), h('th', {}, 'Duration'), h('th', {}, 'Error'))),
      h('tbody', {}, step.attempts.map((a) => h('tr', {},
        h('td', {}, String(a.attempt)), h('td', {}, stepStatusPill(a.status)), h('td', { class: 'nowrap' }, formatClock(a.start)),
        h('td', { class: 'mono' }, formatDuration((a.end ?? nowUs()) - a.start)),
        h('td', { class: 'small' }, a.error ? `${a.error.kind}: ${truncate(a.error.message, 80)}` : '—')))));
  }

  /** Loads what changed: nothing is fetched for a part whose subject did not move. */
  function loadDetails(step) {
    loadOutputs(step);
    loadFacts(step);
    // Compute logs are big (up to 1 MiB a stream and attempt): loaded when the panel
    // opens and once more when the step ends, not on every change of a live step.
    const final = FINAL_STEP_STATUSES.has(step.status);
    if (loaded.logs === undefined || (final && loaded.logs !== 'final')) loadLogs(step, false);
  }

  /** Runs one load of a part; an older load's answer is dropped when a newer one began. */
  async function loadPart(name, part, load, view, { spinner = true } = {}) {
    const ticket = ++tickets[name];
    if (spinner) part.replaceChildren(loadingView());
    let settled;
    try {
      settled = { status: 'fulfilled', value: await load() };
    } catch (reason) {
      settled = { status: 'rejected', reason };
    }
    if (ticket !== tickets[name] || !scope.alive) return;
    fill(part, settled, view);
  }

  function loadOutputs(step) {
    const stepKey = key;
    const wanted = `${step.status}|${step.outputs.length}`;
    if (loaded.outputs === wanted) return;
    loaded.outputs = wanted;
    if (!step.outputs.length && step.status !== 'reused') {
      tickets.outputs++;
      parts.outputs.replaceChildren(outputsView(stepKey, []));
      return;
    }
    loadPart('outputs', parts.outputs, () => stepOutputs(stepKey, step), (list) => outputsView(stepKey, list));
  }

  function loadFacts(step) {
    const stepKey = key;
    const expectations = (step.expectations?.passed ?? 0) + (step.expectations?.failed ?? 0);
    const materializations = step.materializations ?? 0;
    const wanted = `${expectations}|${materializations}`;
    if (loaded.facts === wanted) return;
    loaded.facts = wanted;
    // The summary counts them: only a step that has some makes the server scan its log.
    const types = [expectations ? 'expectation' : null, materializations ? 'materialization' : null].filter(Boolean);
    tickets.facts++;
    if (!expectations) parts.expectations.replaceChildren(expectationsView([]));
    if (!materializations) parts.materializations.replaceChildren(materializationsView([]));
    if (!types.length) return;
    const ticket = tickets.facts;
    const { expectations: expectationsPart, materializations: materializationsPart } = parts;
    if (expectations) expectationsPart.replaceChildren(loadingView());
    if (materializations) materializationsPart.replaceChildren(loadingView());
    scope.api(`/api/runs/${enc(runId)}/events${query({ step: stepKey, type: types.join(','), limit: 1000 })}`)
      .then((page) => ({ status: 'fulfilled', value: page }), (reason) => ({ status: 'rejected', reason }))
      .then((settled) => {
        if (ticket !== tickets.facts || !scope.alive) return;
        if (expectations) fill(expectationsPart, settled, (page) => expectationsView(page.events.filter((e) => e.event === 'expectation')));
        if (materializations) fill(materializationsPart, settled, (page) => materializationsView(page.events.filter((e) => e.event === 'materialization')));
      });
  }

  function loadLogs(step, manual) {
    const stepKey = key;
    const final = FINAL_STEP_STATUSES.has(step.status);
    const first = loaded.logs === undefined;
    loaded.logs = final ? 'final' : 'live';
    if (!step.attempts.length) {
      tickets.logs++;
      parts.logs.replaceChildren(computeLogsView([]));
      return;
    }
    // A reload keeps what is shown until the new text is in.
    loadPart('logs', parts.logs, () => scope.api(`/api/runs/${enc(runId)}/steps/${enc(stepKey)}/logs`),
      (answer) => computeLogsView(answer.attempts), { spinner: first && !manual });
  }

  function fill(part, settled, view) {
    if (settled.status === 'fulfilled') part.replaceChildren(view(settled.value));
    else if (!isAbort(settled.reason)) part.replaceChildren(h('div', { class: 'inline-error' }, `${settled.reason.kind}: ${settled.reason.message}`));
  }

  async function stepOutputs(stepKey, step) {
    const cached = outputsCache.get(stepKey);
    if (cached && cached.length >= step.outputs.length) return cached;
    const answer = await scope.api(`/api/runs/${enc(runId)}/outputs${query({ step: stepKey })}`);
    // Fill the cache for every step the answer covers (it may be the whole run's).
    const byStep = new Map();
    for (const output of answer.outputs) {
      if (!byStep.has(output.step)) byStep.set(output.step, []);
      byStep.get(output.step).push(output);
    }
    for (const [s, list] of byStep) outputsCache.set(s, list);
    return byStep.get(stepKey) ?? [];
  }

  function outputsView(stepKey, outputs) {
    if (!outputs.length) return h('p', { class: 'muted' }, 'No outputs.');
    return h('div', { class: 'list' }, outputs.map((output) => {
      const full = h('div', { class: 'output-full', hidden: true });
      const toggle = async () => {
        if (!full.hidden) { full.hidden = true; return; }
        full.hidden = false;
        full.replaceChildren(loadingView('Loading the value…'));
        try {
          const value = await scope.api(`/api/runs/${enc(runId)}/outputs/${enc(stepKey)}/${enc(output.output)}`);
          setChildren(full,
            value.truncated ? h('div', { class: 'muted small' }, `Too large to show in full (${formatBytes(value.size)}); its preview:`) : null,
            h('pre', { class: 'code small', 'data-testid': 'output-value' }, prettyJson(value.value)));
        } catch (error) {
          full.replaceChildren(h('div', { class: 'inline-error' }, `${error.kind}: ${error.message}`));
        }
      };
      return h('div', { class: 'output-item', 'data-testid': 'step-output', 'data-output': output.output },
        h('button', { class: 'output-head', onclick: toggle, title: 'Show the full value' },
          h('b', { class: 'mono' }, output.output), h('span', { class: 'type' }, output.type),
          h('span', { class: 'muted small' }, formatBytes(output.size)), h('span', { class: 'output-open' }, 'view ▸')),
        h('code', { class: 'output-preview' }, output.preview),
        full);
    }));
  }

  function expectationsView(list) {
    if (!list.length) return h('p', { class: 'muted' }, 'No expectations.');
    return h('div', { class: 'list' }, list.map((e) => h('div', { class: `list-item expectation ${e.success ? 'passed' : 'failed'}`, 'data-testid': 'step-expectation' },
      h('div', {}, h('span', { class: `pill ${e.success ? 'step-succeeded' : 'step-failed'}` }, h('span', { class: 'dot' }), e.success ? 'Passed' : 'Failed'), ' ', h('b', {}, e.label)),
      e.description ? h('div', { class: 'muted small' }, e.description) : null,
      metadataTable(e.metadata))));
  }

  function materializationsView(list) {
    if (!list.length) return h('p', { class: 'muted' }, 'No materializations.');
    return h('div', { class: 'list' }, list.map((e) => h('div', { class: 'list-item', 'data-testid': 'step-materialization' },
      h('a', { class: 'mono strong-link', href: `#/assets/${enc(e.asset_key)}` }, e.asset_key),
      e.description ? h('div', { class: 'muted small' }, e.description) : null,
      metadataTable(e.metadata))));
  }

  function computeLogsView(attempts) {
    if (!attempts?.length) return h('p', { class: 'muted' }, 'No compute logs captured.');
    return h('div', { class: 'stack' }, attempts.map((a) => h('div', { class: 'log-attempt', 'data-attempt': a.attempt },
      h('div', { class: 'log-attempt-head' }, h('b', {}, `Attempt ${a.attempt}`), a.truncated ? h('span', { class: 'badge warn' }, 'truncated to 1 MiB') : null),
      ['stdout', 'stderr'].map((stream) => h('div', { class: 'log-stream' },
        h('div', { class: 'log-stream-name' }, stream, h('span', { class: 'muted' }, ` · ${formatBytes(a[`${stream}_bytes`] ?? 0)}`)),
        h('pre', { class: `code small console ${stream}`, 'data-stream': stream }, a[stream] || '(empty)'))))));
  }

  return { element, open, close, refresh };
}

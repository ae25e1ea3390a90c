// weft UI, shared by every page: the element builder and formatting, the API client and
// its error banner, a page's scope, shared components, and the shape of graph answers and
// run summaries. Imports nothing.


/* ======================================================================================
 * DOM and formatting helpers
 * ==================================================================================== */

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Creates an element. `attrs`: attributes, `on*` listeners, `class`, `style` objects, `value`. */
export function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  const value = applyAttributes(element, attrs);
  appendChildren(element, children);
  // A <select>'s value can only be set once its options exist.
  if (value !== undefined) element.value = value;
  return element;
}

/** Creates an SVG element, like h(). */
export function svgEl(tag, attrs, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  applyAttributes(element, attrs);
  appendChildren(element, children);
  return element;
}

function applyAttributes(element, attrs) {
  let value;
  for (const [name, v] of Object.entries(attrs ?? {})) {
    if (v == null || v === false) continue;
    if (name === 'value') value = v;
    else if (name === 'class') element.setAttribute('class', v);
    else if (name === 'style' && typeof v === 'object') Object.assign(element.style, v);
    else if (name.startsWith('on') && typeof v === 'function') element.addEventListener(name.slice(2), v);
    else element.setAttribute(name, v === true ? '' : String(v));
  }
  return value;
}

/** Replaces an element's children; like h(), skips null and flattens arrays. */
export function setChildren(parent, ...children) {
  parent.replaceChildren();
  appendChildren(parent, children);
}

export function appendChildren(parent, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) appendChildren(parent, child);
    else parent.append(child instanceof Node ? child : String(child));
  }
}

export const enc = encodeURIComponent;
export const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
export const nowUs = () => Date.now() * 1000;
export const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

function debounce(fn, ms) {
  let timer = 0;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

// Times and numbers follow the user's locale.
// Created when first used: each costs tens of milliseconds (locale data) that a page's
// first requests should not wait for.
const lazy = (make) => { let value = null; return () => (value ??= make()); };
const dateTimeFormat = lazy(() => new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' }));
const clockFormat = lazy(() => new Intl.DateTimeFormat(undefined, {
  hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3,
}));
const numberFormat = lazy(() => new Intl.NumberFormat());

/** A time in µs since the epoch, as a locale date and time. */
export function formatTime(us) {
  return us == null ? '—' : dateTimeFormat().format(new Date(us / 1000));
}

/** A time in µs, as a locale clock time with milliseconds (for logs). */
export function formatClock(us) {
  return us == null ? '' : clockFormat().format(new Date(us / 1000));
}

export const formatCount = (n) => numberFormat().format(n ?? 0);

/** A duration in µs, the way a person says it: 85 µs, 340 ms, 1.2 s, 3 m 5 s, 2 h 10 m. */
export function formatDuration(us) {
  if (us == null || !Number.isFinite(us) || us < 0) return '—';
  const oneDecimal = (x) => (x < 10 ? x.toFixed(1).replace(/\.0$/, '') : String(Math.round(x)));
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1e6) return `${oneDecimal(us / 1000)} ms`;
  const seconds = us / 1e6;
  if (seconds < 60) return `${oneDecimal(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} m ${Math.floor(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} m`;
}

export function formatBytes(bytes) {
  if (bytes == null) return '—';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function truncate(text, max) {
  text = String(text ?? '');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export const firstLine = (text) => {
  const s = String(text ?? '');
  const newline = s.indexOf('\n');
  return newline < 0 ? s : `${s.slice(0, newline)} ⏎`;
};

/** Pretty JSON for display; strings are shown as they are. */
export const prettyJson = (value) => (typeof value === 'string' ? value : JSON.stringify(value, null, 2));

/* ======================================================================================
 * API client and error banner
 * ==================================================================================== */

/** An error the API answered with (`{"error": {kind, message, problems}}`), or a network failure. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.kind = error?.kind || 'error';
    this.problems = error?.problems || [];
  }
}

export const isAbort = (error) => error?.name === 'AbortError';

/** Calls the API; resolves with the JSON body, rejects with an ApiError. */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const init = { method, signal, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined || method !== 'GET') {
    // The server takes a POST only with a JSON body (a form cannot forge one).
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  let response;
  let text;
  try {
    response = await fetch(path, init);
    text = await response.text();
  } catch (error) {
    if (isAbort(error)) throw error;
    throw new ApiError(0, { kind: 'network', message: `Cannot reach the weft server (${error.message}).` });
  }
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const fallback = { kind: 'http', message: `${response.status} ${response.statusText} from ${path}${text ? `: ${text.slice(0, 300)}` : ''}` };
    throw new ApiError(response.status, data?.error ?? fallback);
  }
  if (data == null && text) throw new ApiError(response.status, { kind: 'bad_response', message: `${path} did not answer JSON.` });
  return data;
}

/** A query string from an object: null and '' are left out, arrays repeat the key. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v != null && v !== '') search.append(key, String(v));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

// Errors are keyed by where they came from, so a poll that fails every second shows one
// banner, and its next success can clear it.
export const banners = new Map();

export function showError(error, key = 'page') {
  if (isAbort(error)) return;
  // The API's answers are expected failures (shown in the banner); anything else is a bug.
  if (error instanceof ApiError) console.warn(error); else console.error(error);
  const shown = error instanceof ApiError ? error : new ApiError(0, { kind: 'ui', message: String(error?.message ?? error) });
  // One banner per message, whichever part of the page ran into it first.
  for (const [other, e] of banners) if (other !== key && e.message === shown.message) return;
  banners.set(key, shown);
  renderBanners();
}

export function clearError(key) {
  if (banners.delete(key)) renderBanners();
}

export function renderBanners() {
  const root = document.getElementById('banner');
  root.replaceChildren(...[...banners].map(([key, error]) => bannerView(key, error)));
}

export const ERROR_TITLES = {
  invalid: 'Invalid input', bad_request: 'Bad request', unauthorized: 'Not authorized', not_found: 'Not found',
  conflict: 'Conflict', db: 'Store error', host: 'Host error', network: 'Connection problem', stream: 'Live updates stopped',
};

function bannerView(key, error) {
  const title = `${ERROR_TITLES[error.kind] ?? 'Error'}${error.status ? ` · ${error.status}` : ''}`;
  return h('div', { class: 'banner', role: 'alert', 'data-testid': 'error-banner', 'data-kind': error.kind },
    h('div', { class: 'banner-icon', 'aria-hidden': 'true' }, '!'),
    h('div', { class: 'banner-body' },
      h('div', { class: 'banner-title' }, title, h('code', { class: 'banner-kind' }, error.kind)),
      h('div', { class: 'banner-message' }, error.message),
      error.kind === 'unauthorized' ? h('div', { class: 'banner-hint' }, 'Open this UI once as /?token=YOUR_TOKEN: the browser then keeps the token in a cookie.') : null,
      error.problems.length ? problemList(error.problems) : null),
    h('button', { class: 'icon-button', title: 'Dismiss', 'aria-label': 'Dismiss', onclick: () => clearError(key) }, '×'));
}

/* ======================================================================================
 * Page lifecycle
 * ==================================================================================== */

/** What a page owns: its fetches, timers and streams end when the user navigates away. */
export class PageScope {
  constructor() {
    this.controller = new AbortController();
    this.cleanups = [];
  }
  get alive() { return !this.controller.signal.aborted; }
  api(path, options = {}) { return api(path, { ...options, signal: this.controller.signal }); }
  /** Runs `fn` when the page goes; at once when it has gone already (a late registration). */
  onDispose(fn) {
    if (this.alive) { this.cleanups.push(fn); return; }
    try { fn(); } catch (error) { console.error(error); }
  }
  /** An interval that ends with the page; none is started once the page has gone. */
  every(ms, fn) {
    if (!this.alive) return;
    const id = setInterval(() => { if (this.alive) fn(); }, ms);
    this.onDispose(() => clearInterval(id));
  }
  /** A debounced `fn` owned by the page: pending calls are dropped when it goes. */
  debounce(fn, ms) {
    const debounced = debounce((...args) => { if (this.alive) fn(...args); }, ms);
    this.onDispose(debounced.cancel);
    return debounced;
  }
  dispose() {
    this.controller.abort();
    for (const fn of this.cleanups.splice(0)) {
      try { fn(); } catch (error) { console.error(error); }
    }
  }
}

/** Renders the current page again; app.js says how (the router lives there). */
let rerender = () => {};
export function setRouter(fn) { rerender = fn; }
export const reloadPage = () => rerender();

/* ======================================================================================
 * Shared components
 * ==================================================================================== */

export function pageHeader({ title, eyebrow, subtitle, actions = [], extra = null }) {
  document.title = `${typeof title === 'string' ? title : eyebrow ?? 'weft'} · weft`;
  return h('header', { class: 'page-header' },
    h('div', { class: 'page-heading' },
      eyebrow ? h('div', { class: 'eyebrow' }, eyebrow) : null,
      h('div', { class: 'title-row' }, h('h1', { 'data-testid': 'page-title' }, title), extra),
      subtitle ? h('p', { class: 'subtitle' }, subtitle) : null),
    h('div', { class: 'page-actions' }, actions));
}

export function card({ title, actions = null, className = '', testid = null, body = [] }) {
  return h('section', { class: `card ${className}`, 'data-testid': testid },
    title ? h('div', { class: 'card-header' }, h('h2', {}, title), h('div', { class: 'card-actions' }, actions)) : null,
    body);
}

export function emptyState(title, text = '', action = null) {
  return h('div', { class: 'empty-state' },
    h('div', { class: 'empty-title' }, title),
    text ? h('div', { class: 'empty-text' }, text) : null,
    action);
}

export const loadingView = (text = 'Loading…') => h('div', { class: 'loading' }, h('span', { class: 'spinner' }), text);

/** The run statuses of the API, as shown; the API may give them in either case. */
export const runStatusOf = (run) => String(run?.status ?? '').toUpperCase();
export const RUN_STATUSES = ['QUEUED', 'STARTED', 'SUCCESS', 'FAILURE', 'CANCELED', 'INTERRUPTED'];
export const isLiveStatus = (status) => status === 'QUEUED' || status === 'STARTED';

export function runStatusPill(status, testid = null) {
  return h('span', { class: `pill run-${status.toLowerCase()}`, 'data-status': status, 'data-testid': testid },
    h('span', { class: 'dot' }), status);
}

export const STEP_STATUS_LABELS = {
  pending: 'Pending', running: 'Running', up_for_retry: 'Retrying', succeeded: 'Succeeded', failed: 'Failed',
  skipped: 'Skipped', canceled: 'Canceled', reused: 'Reused',
};

export function stepStatusPill(status) {
  return h('span', { class: `pill step-${status}`, 'data-status': status }, h('span', { class: 'dot' }), STEP_STATUS_LABELS[status] ?? status);
}

export function tagChips(tags) {
  const entries = Object.entries(tags ?? {});
  if (!entries.length) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'chips' }, entries.map(([k, v]) => h('span', { class: 'chip', title: `${k}=${v}` }, h('b', {}, k), '=', v)));
}

/** Problems of a run config or manifest: each one's key and message, and where it is. */
export function problemList(problems, { testid = null, onPick = null } = {}) {
  return h('ul', { class: 'problems', 'data-testid': testid },
    problems.map((problem) => h('li', {
      class: `problem ${onPick ? 'clickable' : ''}`,
      'data-testid': 'problem',
      onclick: onPick ? () => onPick(problem) : null,
    },
    h('code', { class: 'problem-key' }, problem.key || '(config)'),
    h('span', { class: 'problem-message' }, problem.message),
    problem.file ? h('span', { class: 'problem-where' }, `${problem.file}${problem.line ? `:${problem.line}` : ''}`) : null)));
}

/** Metadata entries of failures, expectations and materializations. */
export function metadataTable(entries) {
  if (!entries?.length) return null;
  return h('table', { class: 'meta-table' }, h('tbody', {}, entries.map((entry) => h('tr', {},
    h('th', {}, entry.label), h('td', {}, metadataValue(entry.value))))));
}

function metadataValue(value) {
  const v = value?.value;
  switch (value?.type) {
    case 'url': {
      const href = webUrl(v);
      return href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, String(v)) : h('span', { class: 'prewrap' }, String(v ?? ''));
    }
    case 'path': return h('code', {}, v);
    case 'json': {
      let text = v;
      try { text = JSON.stringify(JSON.parse(v), null, 2); } catch { /* shown as it is */ }
      return h('pre', { class: 'code small' }, text);
    }
    case 'integer': case 'float': return h('span', { class: 'mono' }, formatNumberish(v));
    case 'boolean': return h('span', { class: 'mono' }, String(v));
    case 'markdown': return h('div', { class: 'prewrap' }, v);
    default: return h('span', { class: 'prewrap' }, String(v ?? ''));
  }
}

/** An absolute http(s) address, or null: a step's metadata must not make a javascript: link. */
function webUrl(value) {
  try {
    const url = new URL(String(value ?? ''));
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

export const formatNumberish = (v) => (typeof v === 'number' ? numberFormat().format(v) : String(v));

export function iconButton(label, title, onclick) {
  return h('button', { class: 'icon-button', title, 'aria-label': title, onclick }, label);
}

/**
 * A list of fixed-height rows of which only the visible ones are in the DOM, so a log of
 * 100,000 events or a Gantt of 10,000 steps scrolls like a short one. Its scroll position
 * and height are kept from scroll events and a ResizeObserver rather than read back:
 * reading layout in the middle of building a page forces extra layouts, which a page of
 * 10,000 steps cannot afford on its way to the first paint.
 */
export class VirtualList {
  constructor({ rowHeight, renderRow, className = '', overscan = 8, onScroll = null, testid = null }) {
    Object.assign(this, { rowHeight, renderRow, overscan, onScroll });
    this.count = 0;
    this.range = [0, 0];
    this.stale = true;
    this.frame = 0;
    this.top = 0; // scrollTop, as last seen
    this.height = 0; // clientHeight, as last observed
    this.pinned = false; // stays at the bottom as rows are added and the box resizes
    this.scrolling = false; // a scroll position waits to be written at the next render
    this.inner = h('div', { class: 'vlist-inner' });
    this.element = h('div', { class: `vlist ${className}`, 'data-testid': testid }, this.inner);
    this.element.addEventListener('scroll', () => {
      this.top = this.element.scrollTop;
      this.pinned = this.isAtBottom();
      this.schedule();
      this.onScroll?.();
    }, { passive: true });
    this.resizeObserver = new ResizeObserver(([entry]) => {
      this.height = entry.contentRect.height;
      if (this.pinned) { this.top = this.maxTop(); this.scrolling = true; }
      this.render(); // layout is fresh here: applying the scroll costs nothing extra
    });
    this.resizeObserver.observe(this.element);
  }
  setCount(count) {
    this.count = count;
    this.inner.style.height = `${count * this.rowHeight}px`;
    this.top = Math.min(this.top, this.maxTop());
    this.refresh();
  }
  refresh() {
    this.stale = true;
    this.schedule();
  }
  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }
  maxTop() { return Math.max(0, this.count * this.rowHeight - this.height); }
  render() {
    if (this.frame) { cancelAnimationFrame(this.frame); this.frame = 0; }
    // Before the first resize observation the height is unknown: render a screenful.
    const height = this.height || 800;
    const first = Math.max(0, Math.floor(this.top / this.rowHeight) - this.overscan);
    const last = Math.min(this.count, Math.ceil((this.top + height) / this.rowHeight) + this.overscan);
    if (!this.stale && first === this.range[0] && last === this.range[1]) return this.applyScroll();
    // Rebuilding the few visible rows keeps them in DOM order, and costs little.
    const fragment = document.createDocumentFragment();
    for (let index = first; index < last; index++) {
      const row = this.renderRow(index);
      row.style.top = `${index * this.rowHeight}px`;
      fragment.append(row);
    }
    this.inner.replaceChildren(fragment);
    this.range = [first, last];
    this.stale = false;
    this.applyScroll();
  }
  /** Writes a wanted scroll position, after the rows: one layout for both. */
  applyScroll() {
    if (!this.scrolling) return;
    this.scrolling = false;
    this.element.scrollTop = this.top;
  }
  isAtBottom() { return this.top >= this.maxTop() - this.rowHeight / 2 - 1; }
  scrollTo(top) {
    this.top = clamp(top, 0, this.maxTop());
    this.scrolling = true;
    this.schedule();
  }
  scrollToBottom() {
    this.pinned = true;
    this.scrollTo(this.maxTop());
  }
  destroy() {
    this.resizeObserver.disconnect();
    cancelAnimationFrame(this.frame);
  }
}

export function section(title, ...body) {
  return h('div', { class: 'section' }, h('h3', {}, title), body);
}

/* ======================================================================================
 * Graph answers and run summaries
 * ==================================================================================== */

export let manifestInfo = null; // GET /api/pipelines, cached for the nav and the runs filter
/** The manifest answer, once app.js fetched it for the top bar. */
export function setManifestInfo(info) { manifestInfo = info; }

// The API sends each solid's definition once (`solids`) and each step's wiring
// (`sources`): a 10,000-step graph would otherwise repeat every schema 10,000 times.
// This gives every step its solid's fields, its inputs with their sources, and the
// steps upstream of it.
export function hydrateGraph(answer) {
  const solids = answer.solids ?? {};
  for (const step of answer.steps ?? []) hydrateStep(step, solids);
  // A run config to start editing from: every step's config, its defaults filled in.
  const template = {};
  for (const step of answer.steps ?? []) if (step.config != null) template[step.key] = { config: step.config };
  answer.config_template = { solids: template };
  return answer;
}

const hydrated = new WeakSet();
/** One step of a graph answer, given its solid's fields (a run page does it on demand). */
export function hydrateStep(step, solids) {
  if (!step || hydrated.has(step)) return step;
  hydrated.add(step);
  const solid = solids?.[step.solid] ?? {};
  const sources = step.sources ?? {};
  step.description = solid.description;
  step.version = solid.version;
  step.language = solid.language;
  step.outputs = solid.outputs ?? [];
  step.config_schema = solid.config_schema ?? null;
  step.resources = solid.resources ?? [];
  step.tags = solid.tags ?? {};
  step.inputs = (solid.inputs ?? []).map((input) => ({ ...input, sources: sources[input.name] ?? [] }));
  step.config ??= null;
  // The steps feeding this one, each once, in the order its inputs name them.
  step.upstream = [...new Set(upstreamKeys(step))];
  return step;
}

/** The steps a graph step's sources name, in order (a step named twice is listed twice). */
export function upstreamKeys(step) {
  const sources = step.sources;
  const keys = [];
  if (sources) for (const name in sources) for (const source of sources[name]) keys.push(source.step);
  return keys;
}

// A run summary leaves out what is empty (no error, no outputs, no expectations), and a
// step's attempt list when it is one attempt that says what the step says: a summary of
// 10,000 steps is half the size for it. normalizeStep puts all of it back, for the one
// step a panel shows; the Gantt and the DAG read the compact form (attemptsOf,
// attemptCount), so 10,000 steps are not rebuilt on arrival.
const normalized = new WeakSet();
export function normalizeStep(step) {
  if (!step || normalized.has(step)) return step;
  normalized.add(step);
  step.start ??= null;
  step.end ??= null;
  step.error ??= null;
  step.outputs ??= [];
  step.expectations ??= { passed: 0, failed: 0 };
  step.materializations ??= 0;
  step.attempts ??= [{ attempt: 1, start: step.start, end: step.end, status: step.status, error: step.error }];
  for (const attempt of step.attempts) {
    attempt.end ??= null;
    attempt.error ??= null;
  }
  return step;
}

/** A summary step's attempts, the one left out of a compact step included. */
export const attemptsOf = (step) => step.attempts
  ?? [{ attempt: 1, start: step.start ?? null, end: step.end ?? null, status: step.status, error: step.error ?? null }];
export const attemptCount = (step) => (step.attempts ? step.attempts.length : 1);

export async function loadManifestInfo(scope) {
  manifestInfo = await scope.api('/api/pipelines');
  document.getElementById('manifest-path').textContent = manifestInfo.manifest ?? '';
  return manifestInfo;
}

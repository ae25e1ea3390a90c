// weft UI: a single-page app over the weft JSON API (docs/api.md).
// Plain ES2022 module: no framework, no build step, no network access beyond the server.
//
// Sections:
//   1. DOM and formatting helpers
//   2. API client and error banner
//   3. Router and page lifecycle
//   4. Shared components (pills, metadata, problems, virtual list)
//   5. DAG: layout, SVG renderer (small graphs), canvas renderer (big graphs)
//   6. Pipelines list and pipeline page
//   7. Launchpad
//   8. Runs list
//   9. Run page: header, Gantt, event log, step panel
//  10. Assets
//  11. Partitions and backfills: the status matrix, the backfill panel and lists
//  12. Automation: schedules and sensors
//  13. Boot

/* ======================================================================================
 * 1. DOM and formatting helpers
 * ==================================================================================== */

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Creates an element. `attrs`: attributes, `on*` listeners, `class`, `style` objects, `value`. */
function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  const value = applyAttributes(element, attrs);
  appendChildren(element, children);
  // A <select>'s value can only be set once its options exist.
  if (value !== undefined) element.value = value;
  return element;
}

/** Creates an SVG element, like h(). */
function svgEl(tag, attrs, ...children) {
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
function setChildren(parent, ...children) {
  parent.replaceChildren();
  appendChildren(parent, children);
}

function appendChildren(parent, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) appendChildren(parent, child);
    else parent.append(child instanceof Node ? child : String(child));
  }
}

const enc = encodeURIComponent;
const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const nowUs = () => Date.now() * 1000;
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

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
function formatTime(us) {
  return us == null ? '—' : dateTimeFormat().format(new Date(us / 1000));
}

/** A time in µs, as a locale clock time with milliseconds (for logs). */
function formatClock(us) {
  return us == null ? '' : clockFormat().format(new Date(us / 1000));
}

const formatCount = (n) => numberFormat().format(n ?? 0);

/** A duration in µs, the way a person says it: 85 µs, 340 ms, 1.2 s, 3 m 5 s, 2 h 10 m. */
function formatDuration(us) {
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

function formatBytes(bytes) {
  if (bytes == null) return '—';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

function truncate(text, max) {
  text = String(text ?? '');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const firstLine = (text) => {
  const s = String(text ?? '');
  const newline = s.indexOf('\n');
  return newline < 0 ? s : `${s.slice(0, newline)} ⏎`;
};

/** Pretty JSON for display; strings are shown as they are. */
const prettyJson = (value) => (typeof value === 'string' ? value : JSON.stringify(value, null, 2));

/* ======================================================================================
 * 2. API client and error banner
 * ==================================================================================== */

/** An error the API answered with (`{"error": {kind, message, problems}}`), or a network failure. */
class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.kind = error?.kind || 'error';
    this.problems = error?.problems || [];
  }
}

const isAbort = (error) => error?.name === 'AbortError';

/** Calls the API; resolves with the JSON body, rejects with an ApiError. */
async function api(path, { method = 'GET', body, signal } = {}) {
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
function query(params) {
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
const banners = new Map();

function showError(error, key = 'page') {
  if (isAbort(error)) return;
  // The API's answers are expected failures (shown in the banner); anything else is a bug.
  if (error instanceof ApiError) console.warn(error); else console.error(error);
  const shown = error instanceof ApiError ? error : new ApiError(0, { kind: 'ui', message: String(error?.message ?? error) });
  // One banner per message, whichever part of the page ran into it first.
  for (const [other, e] of banners) if (other !== key && e.message === shown.message) return;
  banners.set(key, shown);
  renderBanners();
}

function clearError(key) {
  if (banners.delete(key)) renderBanners();
}

function renderBanners() {
  const root = document.getElementById('banner');
  root.replaceChildren(...[...banners].map(([key, error]) => bannerView(key, error)));
}

const ERROR_TITLES = {
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
 * 3. Router and page lifecycle
 * ==================================================================================== */

/** What a page owns: its fetches, timers and streams end when the user navigates away. */
class PageScope {
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

const ROUTES = [
  [/^\/pipelines$/, pipelinesPage],
  [/^\/pipelines\/([^/]+)\/partitions$/, partitionsPage],
  [/^\/pipelines\/(.+)$/, pipelinePage],
  [/^\/launch\/(.+)$/, launchpadPage],
  [/^\/runs$/, runsPage],
  [/^\/runs\/(.+)$/, runPage],
  [/^\/assets$/, assetsPage],
  [/^\/assets\/(.+)$/, assetPage],
  [/^\/backfills$/, backfillsPage],
  [/^\/backfills\/(.+)$/, backfillPage],
  [/^\/automation$/, automationPage],
];

let currentScope = null;

function parseHash() {
  const raw = location.hash.replace(/^#/, '');
  const mark = raw.indexOf('?');
  const path = mark < 0 ? raw : raw.slice(0, mark);
  return { path: path || '/', query: new URLSearchParams(mark < 0 ? '' : raw.slice(mark + 1)) };
}

function safeDecode(text) {
  try { return decodeURIComponent(text); } catch { return text; }
}

function route() {
  currentScope?.dispose();
  banners.clear();
  renderBanners();
  const { path, query: params } = parseHash();
  if (path === '/' || path === '') {
    location.replace('#/runs');
    return;
  }
  const scope = (currentScope = new PageScope());
  // Every page gets a fresh element: whatever a page being left still does (an answer
  // that arrives late) lands in its own detached root, never in the next page.
  const root = h('main', { id: 'page', class: 'page' });
  document.getElementById('page').replaceWith(root);
  markActiveNav(path);
  for (const [pattern, render] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    const args = match.slice(1).map(safeDecode);
    Promise.resolve()
      .then(() => render(scope, root, ...args, params))
      .catch((error) => {
        if (!scope.alive || isAbort(error)) return;
        showError(error);
        for (const spinner of root.querySelectorAll(':scope > .loading')) spinner.remove();
        root.append(emptyState('This page could not be loaded', error.message));
      });
    return;
  }
  root.append(pageHeader({ title: 'Not found' }), emptyState('No such page', `Nothing lives at #${path}.`));
}

function markActiveNav(path) {
  const section = path.split('/')[1] === 'launch' ? 'pipelines' : path.split('/')[1];
  for (const link of document.querySelectorAll('[data-nav]')) {
    link.classList.toggle('active', link.dataset.nav === section);
  }
}

/* ======================================================================================
 * 4. Shared components
 * ==================================================================================== */

function pageHeader({ title, eyebrow, subtitle, actions = [], extra = null }) {
  document.title = `${typeof title === 'string' ? title : eyebrow ?? 'weft'} · weft`;
  return h('header', { class: 'page-header' },
    h('div', { class: 'page-heading' },
      eyebrow ? h('div', { class: 'eyebrow' }, eyebrow) : null,
      h('div', { class: 'title-row' }, h('h1', { 'data-testid': 'page-title' }, title), extra),
      subtitle ? h('p', { class: 'subtitle' }, subtitle) : null),
    h('div', { class: 'page-actions' }, actions));
}

function card({ title, actions = null, className = '', testid = null, body = [] }) {
  return h('section', { class: `card ${className}`, 'data-testid': testid },
    title ? h('div', { class: 'card-header' }, h('h2', {}, title), h('div', { class: 'card-actions' }, actions)) : null,
    body);
}

function emptyState(title, text = '', action = null) {
  return h('div', { class: 'empty-state' },
    h('div', { class: 'empty-title' }, title),
    text ? h('div', { class: 'empty-text' }, text) : null,
    action);
}

const loadingView = (text = 'Loading…') => h('div', { class: 'loading' }, h('span', { class: 'spinner' }), text);

/** The run statuses of the API, as shown; the API may give them in either case. */
const runStatusOf = (run) => String(run?.status ?? '').toUpperCase();
const RUN_STATUSES = ['QUEUED', 'STARTED', 'SUCCESS', 'FAILURE', 'CANCELED', 'INTERRUPTED'];
const isLiveStatus = (status) => status === 'QUEUED' || status === 'STARTED';

function runStatusPill(status, testid = null) {
  return h('span', { class: `pill run-${status.toLowerCase()}`, 'data-status': status, 'data-testid': testid },
    h('span', { class: 'dot' }), status);
}

const STEP_STATUS_LABELS = {
  pending: 'Pending', running: 'Running', up_for_retry: 'Retrying', succeeded: 'Succeeded', failed: 'Failed',
  skipped: 'Skipped', canceled: 'Canceled', reused: 'Reused',
};

function stepStatusPill(status) {
  return h('span', { class: `pill step-${status}`, 'data-status': status }, h('span', { class: 'dot' }), STEP_STATUS_LABELS[status] ?? status);
}

function tagChips(tags) {
  const entries = Object.entries(tags ?? {});
  if (!entries.length) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'chips' }, entries.map(([k, v]) => h('span', { class: 'chip', title: `${k}=${v}` }, h('b', {}, k), '=', v)));
}

/** Problems of a run config or manifest: each one's key and message, and where it is. */
function problemList(problems, { testid = null, onPick = null } = {}) {
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
function metadataTable(entries) {
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

const formatNumberish = (v) => (typeof v === 'number' ? numberFormat().format(v) : String(v));

function iconButton(label, title, onclick) {
  return h('button', { class: 'icon-button', title, 'aria-label': title, onclick }, label);
}

/**
 * A list of fixed-height rows of which only the visible ones are in the DOM, so a log of
 * 100,000 events or a Gantt of 10,000 steps scrolls like a short one. Its scroll position
 * and height are kept from scroll events and a ResizeObserver rather than read back:
 * reading layout in the middle of building a page forces extra layouts, which a page of
 * 10,000 steps cannot afford on its way to the first paint.
 */
class VirtualList {
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

/* ======================================================================================
 * 5. DAG: layout and rendering
 * ==================================================================================== */

const DAG = { nodeWidth: 208, nodeHeight: 54, gapX: 28, gapY: 64, svgLimit: 300, wrapAt: 40 };

/**
 * Lays out a DAG top to bottom: longest-path layers (Kahn's order), barycenter ordering
 * within layers (a few down and up sweeps), then each node under the mean of its parents
 * with neighbours pushed apart. Linear in nodes and edges but for the sorts. Everything
 * is flat typed arrays and native numeric sorts, so 10,000 nodes lay out in tens of
 * milliseconds even before the JIT warms up. `wrapAt` turns a wider layer into a grid
 * (a 10,000-step fan-out stays viewable).
 * nodes: [{key, upstream: [key]}] -> {x, y, width, height, edgeFrom, edgeTo, layerCount}
 */
function layoutDag(nodes, { nodeWidth, nodeHeight, gapX, gapY, wrapAt = 0 }) {
  const n = nodes.length;
  const graph = dagAdjacency(nodes);
  const layer = longestPathLayers(n, graph);
  const { members, layerStart } = groupByLayer(n, layer, graph.order);
  const layerCount = layerStart.length - 1;
  const pos = new Float64Array(n);
  const key = new Float64Array(n);
  const scratch = { packed: new Float64Array(n), copy: new Int32Array(n) };
  for (let l = 0; l < layerCount; l++) centreLayer(members, layerStart[l], layerStart[l + 1], pos);

  // Barycenter ordering on centred positions, so layers of different widths compare.
  const sweeps = n > 3000 ? 2 : 4;
  for (let sweep = 0; sweep < sweeps; sweep++) {
    for (let l = 1; l < layerCount; l++) {
      reorderLayer(members, layerStart[l], layerStart[l + 1], graph.upStart, graph.upList, pos, key, scratch);
    }
    for (let l = layerCount - 2; l >= 0; l--) {
      reorderLayer(members, layerStart[l], layerStart[l + 1], graph.downStart, graph.downList, pos, key, scratch);
    }
  }

  // Coordinates: under the mean of the parents, pushed apart, or a grid when too wide.
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const stepX = nodeWidth + gapX;
  const stepY = nodeHeight + gapY;
  let top = 0;
  for (let l = 0; l < layerCount; l++) {
    const from = layerStart[l];
    const to = layerStart[l + 1];
    for (let k = from; k < to; k++) {
      const v = members[k];
      const a = graph.upStart[v];
      const b = graph.upStart[v + 1];
      let sum = 0;
      for (let p = a; p < b; p++) sum += x[graph.upList[p]];
      key[v] = b > a ? sum / (b - a) : pos[v] * stepX;
    }
    if (wrapAt && to - from > wrapAt) {
      // About 1.6 times wider than tall, so the grid fills a landscape view.
      const columns = Math.max(wrapAt, Math.ceil(Math.sqrt(((to - from) * stepY * 1.6) / stepX)));
      top += placeGrid(members, from, to, columns, key, x, y, top, stepX, stepY);
    }
    else { placeRow(members, from, to, key, x, y, top, stepX, scratch); top += stepY; }
  }
  let minX = Infinity;
  let maxX = -Infinity;
  for (let i = 0; i < n; i++) { if (x[i] < minX) minX = x[i]; if (x[i] > maxX) maxX = x[i]; }
  if (!n) { minX = 0; maxX = 0; }
  for (let i = 0; i < n; i++) x[i] -= minX;

  const edgeCount = graph.upList.length;
  const edgeFrom = graph.upList;
  const edgeTo = new Int32Array(edgeCount);
  for (let v = 0; v < n; v++) for (let p = graph.upStart[v]; p < graph.upStart[v + 1]; p++) edgeTo[p] = v;
  return {
    x, y, edgeFrom, edgeTo, nodeWidth, nodeHeight, layerCount,
    width: n ? maxX - minX + nodeWidth : 0, height: n ? top - gapY : 0,
  };
}

/** Upstream and downstream lists as flat arrays: v's are list[start[v] .. start[v + 1]). */
function dagAdjacency(nodes) {
  const n = nodes.length;
  const indexOf = new Map();
  for (let i = 0; i < n; i++) indexOf.set(nodes[i].key, i);
  const seen = new Int32Array(n).fill(-1); // a source named twice counts once
  const upStart = new Int32Array(n + 1);
  const buffer = [];
  for (let i = 0; i < n; i++) {
    upStart[i] = buffer.length;
    const upstream = nodes[i].upstream;
    if (!upstream) continue;
    for (let j = 0; j < upstream.length; j++) {
      const u = indexOf.get(upstream[j]);
      if (u === undefined || u === i || seen[u] === i) continue;
      seen[u] = i;
      buffer.push(u);
    }
  }
  upStart[n] = buffer.length;
  const upList = Int32Array.from(buffer);
  const downStart = new Int32Array(n + 1);
  for (let p = 0; p < upList.length; p++) downStart[upList[p] + 1]++;
  for (let i = 0; i < n; i++) downStart[i + 1] += downStart[i];
  const downList = new Int32Array(upList.length);
  const cursor = downStart.slice(0, n);
  for (let v = 0; v < n; v++) for (let p = upStart[v]; p < upStart[v + 1]; p++) downList[cursor[upList[p]]++] = v;
  return { upStart, upList, downStart, downList, order: null };
}

/** Each node's layer: one below its deepest parent. Also records a topological order. */
function longestPathLayers(n, graph) {
  const { upStart, downStart, downList } = graph;
  const layer = new Int32Array(n);
  const waiting = new Int32Array(n);
  const order = new Int32Array(n);
  let queued = 0;
  for (let i = 0; i < n; i++) {
    waiting[i] = upStart[i + 1] - upStart[i];
    if (!waiting[i]) order[queued++] = i;
  }
  for (let head = 0; head < queued; head++) {
    const v = order[head];
    const next = layer[v] + 1;
    for (let p = downStart[v]; p < downStart[v + 1]; p++) {
      const d = downList[p];
      if (next > layer[d]) layer[d] = next;
      if (--waiting[d] === 0) order[queued++] = d;
    }
  }
  if (queued < n) {
    // A cycle (the host refuses them): draw what is left on one more layer.
    let deepest = -1;
    for (let k = 0; k < queued; k++) if (layer[order[k]] > deepest) deepest = layer[order[k]];
    for (let i = 0; i < n; i++) if (waiting[i] > 0) { layer[i] = deepest + 1; order[queued++] = i; }
  }
  graph.order = order;
  return layer;
}

/** Nodes grouped by layer (a counting sort, topological order within a layer). */
function groupByLayer(n, layer, order) {
  let layerCount = 0;
  for (let i = 0; i < n; i++) if (layer[i] + 1 > layerCount) layerCount = layer[i] + 1;
  const layerStart = new Int32Array(layerCount + 1);
  for (let i = 0; i < n; i++) layerStart[layer[i] + 1]++;
  for (let l = 0; l < layerCount; l++) layerStart[l + 1] += layerStart[l];
  const cursor = layerStart.slice(0, layerCount);
  const members = new Int32Array(n);
  for (let k = 0; k < n; k++) members[cursor[layer[order[k]]]++] = order[k];
  return { members, layerStart };
}

function centreLayer(members, from, to, pos) {
  const mid = (to - from - 1) / 2;
  for (let k = from; k < to; k++) pos[members[k]] = k - from - mid;
}

/**
 * Sorts members[from..to) by key[v], ties kept in the current order. Key (to 1/64) and
 * rank (below 2^20) are packed in one float64 and sorted natively: a comparator sort is
 * several times slower before the JIT warms up.
 */
function sortRangeByKey(members, from, to, key, scratch) {
  const len = to - from;
  if (len < 2) return;
  const RANK = 1048576;
  const packed = scratch.packed.subarray(0, len);
  for (let k = 0; k < len; k++) packed[k] = Math.round(key[members[from + k]] * 64) * RANK + k;
  packed.sort();
  const copy = scratch.copy;
  for (let k = 0; k < len; k++) copy[k] = members[from + k];
  for (let k = 0; k < len; k++) members[from + k] = copy[((packed[k] % RANK) + RANK) % RANK];
}

/** One barycenter pass over a layer: order by the mean position of the neighbours given. */
function reorderLayer(members, from, to, start, adjacency, pos, key, scratch) {
  if (to - from < 2) return;
  for (let k = from; k < to; k++) {
    const v = members[k];
    const a = start[v];
    const b = start[v + 1];
    if (a === b) { key[v] = pos[v]; continue; }
    let sum = 0;
    for (let p = a; p < b; p++) sum += pos[adjacency[p]];
    key[v] = sum / (b - a);
  }
  sortRangeByKey(members, from, to, key, scratch);
  centreLayer(members, from, to, pos);
}

/** A layer in one row: each node at its wanted x (key), neighbours pushed apart. */
function placeRow(members, from, to, key, x, y, top, stepX, scratch) {
  sortRangeByKey(members, from, to, key, scratch);
  let previous = -Infinity;
  let drift = 0;
  for (let k = from; k < to; k++) {
    const v = members[k];
    x[v] = Math.max(key[v], previous + stepX);
    previous = x[v];
    drift += x[v] - key[v];
  }
  // Pushing apart moves a layer right; shift it back so it stays under its parents.
  const shift = to > from ? drift / (to - from) : 0;
  for (let k = from; k < to; k++) { x[members[k]] -= shift; y[members[k]] = top; }
}

/** A layer too wide for a row, as a grid centred under its parents; returns its height. */
function placeGrid(members, from, to, columns, key, x, y, top, stepX, stepY) {
  let mean = 0;
  for (let k = from; k < to; k++) mean += key[members[k]];
  const left = mean / (to - from) - ((columns - 1) * stepX) / 2;
  for (let k = from; k < to; k++) {
    const i = k - from;
    x[members[k]] = left + (i % columns) * stepX;
    y[members[k]] = top + Math.floor(i / columns) * stepY;
  }
  return Math.ceil((to - from) / columns) * stepY;
}

/**
 * A pannable, zoomable DAG. nodes: [{key, upstream, title, subtitle, status, tooltip}].
 * Up to DAG.svgLimit nodes it is SVG, one `dag-node` element per step; beyond, a canvas
 * with hit-testing. onNodeClick(key, {additive}) is called on a click (not a drag).
 * subtitleOf(key), when given, stands for the nodes' subtitles: a canvas asks it only for
 * the nodes it draws with their text (or hovers), not for 10,000 up front.
 */
function createDag({ nodes, testid, onNodeClick, subtitleOf = null }) {
  const useCanvas = nodes.length > DAG.svgLimit;
  const layout = layoutDag(nodes, { ...DAG, wrapAt: useCanvas ? DAG.wrapAt : 0 });
  let indexOf = null; // key -> node, built when first needed
  const n = nodes.length;
  const state = {
    status: new Array(n),
    subtitle: new Array(n), // undefined: not computed yet (asked of subtitleOf when drawn)
    subtitleOf: useCanvas ? subtitleOf : null,
    subtitleAt(i) {
      let subtitle = state.subtitle[i];
      if (subtitle === undefined) state.subtitle[i] = subtitle = state.subtitleOf?.(nodes[i].key) ?? '';
      return subtitle;
    },
    selected: new Set(),
    incident: null, // edges per node, built when first needed
  };
  for (let i = 0; i < n; i++) {
    const node = nodes[i];
    state.status[i] = node.status ?? null;
    state.subtitle[i] = node.subtitle ?? (state.subtitleOf ? undefined : subtitleOf ? subtitleOf(node.key) : '');
  }
  const view = { scale: 1, tx: 0, ty: 0 };
  const surface = h('div', { class: 'dag-surface' });
  const root = h('div', { class: `dag ${useCanvas ? 'dag-big' : ''}`, 'data-testid': testid, 'data-nodes': nodes.length }, surface);
  const renderer = useCanvas
    ? createCanvasRenderer(surface, nodes, layout, state, view)
    : createSvgRenderer(surface, nodes, layout, state, view);
  const minScale = useCanvas ? 0.01 : 0.08;

  function fit() {
    const width = surface.clientWidth;
    const height = surface.clientHeight;
    if (!width || !height || !nodes.length) return;
    const pad = 28;
    view.scale = clamp(Math.min((width - 2 * pad) / layout.width, (height - 2 * pad) / layout.height), minScale, 1.1);
    view.tx = (width - layout.width * view.scale) / 2;
    view.ty = Math.max(pad, (height - layout.height * view.scale) / 2);
    renderer.applyView();
  }

  function zoomAt(px, py, factor) {
    const scale = clamp(view.scale * factor, minScale, 2.5);
    view.tx = px - ((px - view.tx) * scale) / view.scale;
    view.ty = py - ((py - view.ty) * scale) / view.scale;
    view.scale = scale;
    userMoved = true;
    renderer.applyView();
  }

  let userMoved = false;
  let drag = null;
  let dragged = false;
  surface.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    drag = { x: event.clientX, y: event.clientY, tx: view.tx, ty: view.ty };
    dragged = false;
  });
  const onMove = (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (!dragged && Math.hypot(dx, dy) < 4) return;
    dragged = true;
    userMoved = true;
    surface.classList.add('panning');
    view.tx = drag.tx + dx;
    view.ty = drag.ty + dy;
    renderer.applyView();
  };
  const onUp = () => { drag = null; surface.classList.remove('panning'); };
  window.addEventListener('pointermove', onMove);
  window.addEventListener('pointerup', onUp);
  surface.addEventListener('click', (event) => {
    if (dragged) { dragged = false; return; }
    const index = renderer.hitTest(event);
    if (index >= 0) onNodeClick?.(nodes[index].key, { additive: event.ctrlKey || event.metaKey || event.shiftKey });
  });
  surface.addEventListener('wheel', (event) => {
    event.preventDefault();
    const rect = surface.getBoundingClientRect();
    const speed = event.deltaMode === 1 ? 0.05 : 0.0015;
    zoomAt(event.clientX - rect.left, event.clientY - rect.top, Math.exp(-event.deltaY * speed));
  }, { passive: false });

  const zoomCentre = (factor) => zoomAt(surface.clientWidth / 2, surface.clientHeight / 2, factor);
  const fitButton = iconButton('⤢', 'Fit to view', () => { userMoved = false; fit(); });
  fitButton.classList.add('glyph-serif'); // see app.css
  root.append(
    h('div', { class: 'dag-toolbar' },
      iconButton('+', 'Zoom in', () => zoomCentre(1.25)),
      iconButton('−', 'Zoom out', () => zoomCentre(0.8)),
      fitButton),
    h('div', { class: 'dag-caption' }, `${formatCount(nodes.length)} steps${useCanvas ? ' · drag to pan, wheel to zoom' : ''}`));

  const resizeObserver = new ResizeObserver(() => {
    renderer.resize(surface.clientWidth, surface.clientHeight);
    if (!userMoved) fit();
    else renderer.applyView();
    // Layout is fresh here and the frame not painted yet: draw into it, not the next one.
    renderer.flush?.();
  });
  resizeObserver.observe(surface);

  function incidentEdges() {
    if (!state.incident) {
      state.incident = Array.from({ length: nodes.length }, () => []);
      for (let e = 0; e < layout.edgeFrom.length; e++) {
        state.incident[layout.edgeFrom[e]].push(e);
        state.incident[layout.edgeTo[e]].push(e);
      }
    }
    return state.incident;
  }

  return {
    element: root,
    /** Re-reads every node's status and subtitle; redraws only what changed. */
    update(statusOf, subtitleOf = null) {
      const changed = [];
      if (state.subtitleOf && subtitleOf) {
        // Lazy subtitles: forget them (the drawn ones are asked again), compare statuses.
        state.subtitleOf = subtitleOf;
        state.subtitle.fill(undefined);
        for (let i = 0; i < n; i++) {
          const status = statusOf(nodes[i].key);
          if (status !== state.status[i]) { state.status[i] = status; changed.push(i); }
        }
        renderer.updateNodes(changed);
        return;
      }
      for (let i = 0; i < nodes.length; i++) {
        const status = statusOf(nodes[i].key);
        const subtitle = subtitleOf ? subtitleOf(nodes[i].key) : state.subtitle[i];
        if (status !== state.status[i] || subtitle !== state.subtitle[i]) {
          state.status[i] = status;
          state.subtitle[i] = subtitle;
          changed.push(i);
        }
      }
      if (changed.length) renderer.updateNodes(changed);
    },
    setSelection(keys) {
      const previous = state.selected;
      if (!(keys.size ?? keys.length) && !previous.size) return;
      indexOf ??= new Map(nodes.map((node, i) => [node.key, i]));
      state.selected = new Set([...keys].map((key) => indexOf.get(key)).filter((i) => i !== undefined));
      renderer.updateSelection(previous, incidentEdges());
    },
    destroy() {
      resizeObserver.disconnect();
      window.removeEventListener('pointermove', onMove);
      window.removeEventListener('pointerup', onUp);
      renderer.destroy?.();
    },
  };
}

function edgePathData(layout, from, to) {
  const { x, y, nodeWidth, nodeHeight } = layout;
  const x1 = x[from] + nodeWidth / 2;
  const y1 = y[from] + nodeHeight;
  const x2 = x[to] + nodeWidth / 2;
  const y2 = y[to];
  const span = y2 - y1;
  if (span > layout.nodeHeight * 2.5 && Math.abs(x2 - x1) < nodeWidth) {
    // An edge that skips layers bows out to the side, so it does not run through the
    // nodes between (and look like a chain through them).
    const out = nodeWidth * 0.78;
    return `M${x1},${y1} C${x1 + out},${y1 + span * 0.25} ${x2 + out},${y2 - span * 0.25} ${x2},${y2 - 2}`;
  }
  const bend = Math.max(24, span / 2);
  return `M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2 - 2}`;
}

function createSvgRenderer(surface, nodes, layout, state, view) {
  const { x, y, nodeWidth: W, nodeHeight: H } = layout;
  const svg = svgEl('svg', { class: 'dag-svg' });
  const viewport = svgEl('g');
  const edgeGroup = svgEl('g', { class: 'dag-edges' });
  const edgeEls = [];
  for (let e = 0; e < layout.edgeFrom.length; e++) {
    const path = svgEl('path', { class: 'dag-edge', d: edgePathData(layout, layout.edgeFrom[e], layout.edgeTo[e]), 'marker-end': 'url(#dag-arrow)' });
    edgeEls.push(path);
  }
  edgeGroup.append(...edgeEls);
  const nodeEls = nodes.map((node, i) => {
    const subtitle = svgEl('text', { class: 'dag-node-subtitle', x: 18, y: 38 }, truncate(state.subtitle[i], 30));
    const g = svgEl('g', {
      class: 'dag-node', 'data-testid': 'dag-node', 'data-step': node.key, 'data-index': i,
      'data-status': state.status[i], transform: `translate(${x[i]},${y[i]})`,
    },
    svgEl('title', {}, node.tooltip ?? node.key),
    svgEl('rect', { class: 'dag-node-box', width: W, height: H, rx: 9 }),
    svgEl('rect', { class: 'dag-node-stripe', x: 6, y: 9, width: 4, height: H - 18, rx: 2 }),
    svgEl('text', { class: 'dag-node-title', x: 18, y: 22 }, truncate(node.title ?? node.key, 24)),
    subtitle);
    return { g, subtitle };
  });
  viewport.append(edgeGroup, svgEl('g', { class: 'dag-nodes' }, nodeEls.map((n) => n.g)));
  svg.append(
    svgEl('defs', {}, svgEl('marker', { id: 'dag-arrow', viewBox: '0 0 10 10', refX: 8, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' },
      svgEl('path', { d: 'M0,0 L10,5 L0,10 z', class: 'dag-arrow' }))),
    viewport);
  surface.append(svg);

  return {
    applyView() { viewport.setAttribute('transform', `translate(${view.tx},${view.ty}) scale(${view.scale})`); },
    resize() {},
    hitTest(event) {
      const g = event.target.closest?.('.dag-node');
      return g ? Number(g.dataset.index) : -1;
    },
    updateNodes(indices) {
      for (const i of indices) {
        const status = state.status[i];
        if (status) nodeEls[i].g.setAttribute('data-status', status);
        else nodeEls[i].g.removeAttribute('data-status');
        nodeEls[i].subtitle.textContent = truncate(state.subtitle[i], 30);
      }
    },
    updateSelection(previous, incident) {
      for (const i of previous) {
        nodeEls[i].g.classList.remove('selected');
        for (const e of incident[i]) edgeEls[e].classList.remove('active');
      }
      for (const i of state.selected) {
        nodeEls[i].g.classList.add('selected');
        for (const e of incident[i]) edgeEls[e].classList.add('active');
      }
    },
  };
}

/** The status colours, read from the stylesheet so the canvas follows the theme. */
function readDagColors(element) {
  const style = getComputedStyle(element);
  const get = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  const colors = {
    surface: get('--surface', '#fff'), border: get('--border-strong', '#cbd2dc'), text: get('--text', '#1d2433'),
    muted: get('--muted', '#6b7385'), edge: get('--edge', '#b7bfcc'), accent: get('--accent', '#4f46e5'),
    status: {},
  };
  for (const status of Object.keys(STEP_STATUS_LABELS)) colors.status[status] = get(`--st-${status}`, '#9aa3b2');
  colors.status.none = colors.border;
  return colors;
}

function createCanvasRenderer(surface, nodes, layout, state, view) {
  const { x, y, edgeFrom, edgeTo, nodeWidth: W, nodeHeight: H } = layout;
  const canvas = h('canvas', { class: 'dag-canvas' });
  const tooltip = h('div', { class: 'dag-tooltip', hidden: true });
  surface.append(canvas, tooltip);
  const ctx = canvas.getContext('2d');
  // Styles are read at the first draw: a detached element has none.
  let colors = null;
  let fontFamily = 'sans-serif';
  const labels = new Map(); // node -> truncated title, measured once
  let width = 0;
  let height = 0;
  let frame = 0;
  let pulseTimer = 0;
  let hovered = -1;

  const schedule = () => { if (!frame) frame = requestAnimationFrame(draw); };

  function fitText(text, maxWidth) {
    if (ctx.measureText(text).width <= maxWidth) return text;
    let lo = 0;
    let hi = text.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ctx.measureText(`${text.slice(0, mid)}…`).width <= maxWidth) lo = mid; else hi = mid - 1;
    }
    return `${text.slice(0, lo)}…`;
  }

  function draw() {
    frame = 0;
    if (!colors) {
      colors = readDagColors(surface);
      fontFamily = getComputedStyle(surface).fontFamily || fontFamily;
    }
    const dpr = window.devicePixelRatio || 1;
    const { scale, tx, ty } = view;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.setTransform(dpr * scale, 0, 0, dpr * scale, dpr * tx, dpr * ty);
    // The visible world rectangle, with a node's margin: everything else is culled.
    const x0 = -tx / scale - W;
    const y0 = -ty / scale - H;
    const x1 = (width - tx) / scale + W;
    const y1 = (height - ty) / scale + H;
    const visible = (i) => x[i] >= x0 && x[i] <= x1 && y[i] >= y0 && y[i] <= y1;

    // Zoomed far out, thousands of edges would only paint the gaps grey.
    if (scale >= 0.12 || edgeFrom.length < 1500) drawEdges(x0, y0, x1, y1, scale);
    const detailed = scale >= 0.3;
    const groups = new Map();
    let running = false;
    for (let i = 0; i < nodes.length; i++) {
      if (!visible(i)) continue;
      const status = state.status[i] ?? 'none';
      if (status === 'running') running = true;
      let group = groups.get(status);
      if (!group) groups.set(status, (group = []));
      group.push(i);
    }
    if (detailed) drawDetailedNodes(groups, scale);
    else drawCompactNodes(groups, scale);
    drawSelection(scale);
    // Running steps pulse: redraw a few times a second while any is in view.
    clearTimeout(pulseTimer);
    if (running) pulseTimer = setTimeout(schedule, 120);
  }

  function drawEdges(x0, y0, x1, y1, scale) {
    ctx.lineWidth = 1.2 / scale;
    ctx.strokeStyle = colors.edge;
    ctx.globalAlpha = edgeFrom.length > 3000 ? 0.45 : 0.9;
    ctx.beginPath();
    const curved = scale > 0.12;
    for (let e = 0; e < edgeFrom.length; e++) {
      const a = edgeFrom[e];
      const b = edgeTo[e];
      const ax = x[a] + W / 2;
      const ay = y[a] + H;
      const bx = x[b] + W / 2;
      const by = y[b];
      if (Math.max(ax, bx) < x0 || Math.min(ax, bx) > x1 || Math.max(ay, by) < y0 || Math.min(ay, by) > y1) continue;
      ctx.moveTo(ax, ay);
      if (curved) {
        const bend = Math.max(24, (by - ay) / 2);
        ctx.bezierCurveTo(ax, ay + bend, bx, by - bend, bx, by);
      } else {
        ctx.lineTo(bx, by);
      }
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
  }

  function drawCompactNodes(groups, scale) {
    // Zoomed far out: a block of the status colour per step, one path per colour.
    for (const [status, list] of groups) {
      ctx.fillStyle = colors.status[status] ?? colors.status.none;
      ctx.beginPath();
      for (const i of list) ctx.rect(x[i], y[i], W, H);
      ctx.fill();
    }
    // Failing, retrying and running steps stay visible as dots of at least 7 px.
    const size = 7 / scale;
    if (size <= H) return;
    for (const status of ['running', 'up_for_retry', 'failed']) {
      const list = groups.get(status);
      if (!list) continue;
      ctx.fillStyle = colors.status[status];
      ctx.beginPath();
      for (const i of list) ctx.rect(x[i] + W / 2 - size / 2, y[i] + H / 2 - size / 2, size, size);
      ctx.fill();
    }
  }

  function drawDetailedNodes(groups, scale) {
    const pulse = 0.55 + 0.45 * Math.sin(performance.now() / 180);
    for (const [status, list] of groups) {
      const colour = colors.status[status] ?? colors.status.none;
      ctx.beginPath();
      for (const i of list) ctx.roundRect(x[i], y[i], W, H, 9);
      ctx.fillStyle = colors.surface;
      ctx.fill();
      ctx.lineWidth = (status === 'none' || status === 'pending' ? 1 : 1.6) / scale;
      ctx.strokeStyle = status === 'none' ? colors.border : colour;
      if (status === 'running') ctx.globalAlpha = pulse;
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.beginPath();
      for (const i of list) ctx.roundRect(x[i] + 6, y[i] + 9, 4, H - 18, 2);
      ctx.fillStyle = colour;
      ctx.fill();
    }
    if (scale < 0.45) return;
    ctx.textBaseline = 'alphabetic';
    for (const list of groups.values()) {
      for (const i of list) {
        ctx.font = `600 13px ${fontFamily}`;
        ctx.fillStyle = colors.text;
        let label = labels.get(i);
        if (label === undefined) labels.set(i, (label = fitText(nodes[i].title ?? nodes[i].key, W - 28)));
        ctx.fillText(label, x[i] + 18, y[i] + 22);
        ctx.font = `11px ${fontFamily}`;
        ctx.fillStyle = colors.muted;
        ctx.fillText(truncate(state.subtitleAt(i), 32), x[i] + 18, y[i] + 39);
      }
    }
  }

  function drawSelection(scale) {
    const marked = new Set(state.selected);
    if (hovered >= 0) marked.add(hovered);
    if (!marked.size) return;
    ctx.strokeStyle = colors.accent;
    ctx.lineWidth = 2.5 / scale;
    ctx.beginPath();
    for (const i of marked) ctx.roundRect(x[i] - 3, y[i] - 3, W + 6, H + 6, 11);
    ctx.stroke();
  }

  function nodeAt(event) {
    const rect = canvas.getBoundingClientRect();
    const wx = (event.clientX - rect.left - view.tx) / view.scale;
    const wy = (event.clientY - rect.top - view.ty) / view.scale;
    for (let i = 0; i < nodes.length; i++) {
      if (wx >= x[i] && wx <= x[i] + W && wy >= y[i] && wy <= y[i] + H) return i;
    }
    return -1;
  }

  surface.addEventListener('pointermove', (event) => {
    if (event.buttons) return;
    const index = nodeAt(event);
    if (index === hovered) return;
    hovered = index;
    surface.style.cursor = index >= 0 ? 'pointer' : '';
    tooltip.hidden = index < 0;
    if (index >= 0) {
      const rect = surface.getBoundingClientRect();
      setChildren(tooltip, h('b', {}, nodes[index].key), h('div', {}, state.subtitleAt(index) || ''));
      tooltip.style.left = `${event.clientX - rect.left + 14}px`;
      tooltip.style.top = `${event.clientY - rect.top + 14}px`;
    }
    schedule();
  });
  surface.addEventListener('pointerleave', () => { hovered = -1; tooltip.hidden = true; schedule(); });

  return {
    applyView: schedule,
    resize(w, hgt) {
      const dpr = window.devicePixelRatio || 1;
      width = w;
      height = hgt;
      canvas.width = Math.max(1, Math.round(w * dpr));
      canvas.height = Math.max(1, Math.round(hgt * dpr));
      canvas.style.width = `${w}px`;
      canvas.style.height = `${hgt}px`;
      schedule();
    },
    hitTest: nodeAt,
    updateNodes: schedule,
    updateSelection: schedule,
    flush() { if (frame) { cancelAnimationFrame(frame); draw(); } },
    destroy() { cancelAnimationFrame(frame); clearTimeout(pulseTimer); },
  };
}

/** A legend of step status colours. */
function statusLegend() {
  return h('div', { class: 'legend' }, Object.entries(STEP_STATUS_LABELS).map(([status, label]) =>
    h('span', { class: `legend-item step-${status}` }, h('span', { class: 'dot' }), label)));
}

/* ======================================================================================
 * 6. Pipelines list and pipeline page
 * ==================================================================================== */

let manifestInfo = null; // GET /api/pipelines, cached for the nav and the runs filter

// The API sends each solid's definition once (`solids`) and each step's wiring
// (`sources`): a 10,000-step graph would otherwise repeat every schema 10,000 times.
// This gives every step its solid's fields, its inputs with their sources, and the
// steps upstream of it.
function hydrateGraph(answer) {
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
function hydrateStep(step, solids) {
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
function upstreamKeys(step) {
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
function normalizeStep(step) {
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
const attemptsOf = (step) => step.attempts
  ?? [{ attempt: 1, start: step.start ?? null, end: step.end ?? null, status: step.status, error: step.error ?? null }];
const attemptCount = (step) => (step.attempts ? step.attempts.length : 1);

async function loadManifestInfo(scope) {
  manifestInfo = await scope.api('/api/pipelines');
  document.getElementById('manifest-path').textContent = manifestInfo.manifest ?? '';
  return manifestInfo;
}

async function pipelinesPage(scope, root) {
  root.append(pageHeader({ title: 'Pipelines', subtitle: 'The pipelines of the manifest this UI serves.' }), loadingView());
  const info = await loadManifestInfo(scope);
  root.lastChild.remove();
  root.firstChild.querySelector('.subtitle').textContent = info.manifest;

  const rows = info.pipelines.map((pipeline) => h('tr', { 'data-testid': 'pipeline-row', 'data-name': pipeline.name },
    h('td', {}, h('a', { class: 'strong-link', href: `#/pipelines/${enc(pipeline.name)}` }, pipeline.name)),
    h('td', { class: 'muted' }, pipeline.description || '—'),
    h('td', { class: 'num' }, formatCount(pipeline.steps)),
    h('td', {}, pipeline.presets.length ? h('span', { class: 'chips' }, pipeline.presets.map((p) => h('span', { class: 'chip' }, p))) : h('span', { class: 'muted' }, '—')),
    h('td', { class: 'row-actions' },
      h('a', { class: 'button small ghost', href: `#/runs?pipeline=${enc(pipeline.name)}` }, 'Runs'),
      h('a', { class: 'button small', href: `#/launch/${enc(pipeline.name)}` }, 'Launch'))));
  root.append(
    card({
      title: `Pipelines · ${info.pipelines.length}`,
      body: info.pipelines.length
        ? h('table', { class: 'table' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Description'), h('th', { class: 'num' }, 'Steps'), h('th', {}, 'Presets'), h('th', {}))),
          h('tbody', {}, rows))
        : emptyState('No pipelines', 'The manifest declares no pipeline.'),
    }),
    modesCard(info.modes));
}

function modesCard(modes) {
  return card({
    title: `Modes · ${modes.length}`,
    body: modes.length
      ? h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Mode'), h('th', {}, 'Description'), h('th', {}, 'Resources'))),
        h('tbody', {}, modes.map((mode) => h('tr', {},
          h('td', {}, h('b', {}, mode.name), mode.default ? h('span', { class: 'badge' }, 'default') : null),
          h('td', { class: 'muted' }, mode.description || '—'),
          h('td', {}, mode.resources.length ? h('span', { class: 'chips' }, mode.resources.map((r) => h('span', { class: 'chip mono' }, r))) : h('span', { class: 'muted' }, 'none'))))))
      : emptyState('No modes', 'Steps that need no resources run without one.'),
  });
}

/** "(string, integer) → string": a step's signature, for its DAG node. */
function stepSignature(step) {
  const inputs = (step.inputs ?? []).map((input) => `${input.type}${input.multiple ? '[]' : ''}${input.optional ? '?' : ''}`);
  const outputs = (step.outputs ?? []).map((output) => output.type);
  return `(${inputs.join(', ')}) → ${outputs.length ? outputs.join(', ') : '()'}`;
}

function stepTooltip(step) {
  const lines = [step.key];
  if (step.solid && step.solid !== step.key) lines.push(`solid: ${step.solid}`);
  if (step.description) lines.push(step.description);
  for (const input of step.inputs ?? []) lines.push(`in  ${input.name}: ${input.type}`);
  for (const output of step.outputs ?? []) lines.push(`out ${output.name}: ${output.type}`);
  return lines.join('\n');
}

async function pipelinePage(scope, root, name) {
  root.classList.add('page-wide');
  const tabs = pipelineTabs(name, 'overview');
  root.append(pipelineHeader(name), tabs.element, loadingView());
  // The Partitions tab shows when the pipeline has partitions (asked alongside the graph).
  isPartitioned(scope, name)
    .then((partitioned) => { if (partitioned) tabs.showPartitions(); })
    .catch((error) => { if (!isAbort(error)) console.warn(error); });
  const pipeline = hydrateGraph(await scope.api(`/api/pipelines/${enc(name)}`));
  root.lastChild.remove();
  if (pipeline.description) root.firstChild.querySelector('.page-heading').append(h('p', { class: 'subtitle' }, pipeline.description));

  const byKey = new Map(pipeline.steps.map((step) => [step.key, step]));
  const consumers = new Map(); // "step.output" -> ["step.input"]
  for (const step of pipeline.steps) {
    for (const input of step.inputs ?? []) {
      for (const source of input.sources ?? []) {
        const key = `${source.step}.${source.output}`;
        if (!consumers.has(key)) consumers.set(key, []);
        consumers.get(key).push(`${step.key}.${input.name}`);
      }
    }
  }
  const side = h('aside', { class: 'side-panel' });
  const dag = createDag({
    testid: 'dag',
    nodes: pipeline.steps.map((step) => ({
      key: step.key, upstream: step.upstream, title: step.key, tooltip: stepTooltip(step),
      subtitle: `${step.solid && step.solid !== step.key ? `${step.solid} · ` : ''}${stepSignature(step)}`,
    })),
    onNodeClick: (key) => select(key),
  });
  scope.onDispose(() => dag.destroy());

  function select(key) {
    dag.setSelection(key ? [key] : []);
    setChildren(side, key ? solidDetail(byKey.get(key), consumers, select) : pipelineOverview(pipeline));
  }
  select(null);
  root.append(h('div', { class: 'split' }, card({ className: 'dag-card', body: dag.element }), side));
}

function pipelineOverview(pipeline) {
  return h('div', { class: 'stack' },
    card({
      title: 'Overview',
      body: h('div', { class: 'card-body' },
        h('dl', { class: 'facts' },
          h('dt', {}, 'Steps'), h('dd', {}, formatCount(pipeline.steps.length)),
          h('dt', {}, 'Modes'), h('dd', {}, pipeline.modes.map((m) => m.name).join(', ') || '—'),
          h('dt', {}, 'Presets'), h('dd', {}, pipeline.presets.map((p) => p.name).join(', ') || '—')),
        h('p', { class: 'hint' }, 'Select a step in the graph to see its solid: inputs, outputs, config schema and resources.')),
    }),
    card({
      title: 'Modes',
      body: h('div', { class: 'card-body list' }, pipeline.modes.length ? pipeline.modes.map((mode) => h('div', { class: 'list-item' },
        h('div', {}, h('b', {}, mode.name), mode.default ? h('span', { class: 'badge' }, 'default') : null),
        mode.description ? h('div', { class: 'muted small' }, mode.description) : null,
        mode.resources.length ? h('div', { class: 'chips' }, mode.resources.map((r) => h('span', { class: 'chip mono' }, r))) : null))
        : h('p', { class: 'muted' }, 'No modes.')),
    }),
    card({
      title: 'Presets',
      body: h('div', { class: 'card-body list' }, pipeline.presets.length ? pipeline.presets.map((preset) => h('details', { class: 'list-item' },
        h('summary', {}, h('b', {}, preset.name)),
        h('pre', { class: 'code small' }, prettyJson(preset.config))))
        : h('p', { class: 'muted' }, 'No presets.')),
    }));
}

function solidDetail(step, consumers, select) {
  const sourceLinks = (input) => (input.sources ?? []).map((source) =>
    h('button', { class: 'link-button mono', onclick: () => select(source.step) }, `${source.step}.${source.output}`));
  return card({
    testid: 'solid-detail',
    className: 'solid-detail',
    title: step.key,
    actions: iconButton('×', 'Close', () => select(null)),
    body: h('div', { class: 'card-body stack' },
      h('div', { class: 'chips' },
        h('span', { class: 'chip' }, h('b', {}, 'solid'), ' ', step.solid),
        step.version ? h('span', { class: 'chip' }, h('b', {}, 'version'), ' ', step.version) : null,
        step.language ? h('span', { class: 'chip' }, h('b', {}, 'language'), ' ', step.language) : null,
        Object.entries(step.tags ?? {}).map(([k, v]) => h('span', { class: 'chip' }, h('b', {}, k), '=', v))),
      h('p', { class: 'description' }, step.description || h('span', { class: 'muted' }, 'No description.')),
      section('Inputs', (step.inputs ?? []).length ? h('table', { class: 'table compact' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Type'), h('th', {}, 'From'))),
        h('tbody', {}, step.inputs.map((input) => h('tr', { 'data-testid': 'solid-input' },
          h('td', {}, h('b', { class: 'mono' }, input.name),
            input.optional ? h('span', { class: 'badge' }, 'optional') : null,
            input.multiple ? h('span', { class: 'badge' }, 'multiple') : null,
            input.description ? h('div', { class: 'muted small' }, input.description) : null),
          h('td', {}, h('span', { class: 'type' }, input.type)),
          h('td', {}, sourceLinks(input).length ? sourceLinks(input) : h('span', { class: 'muted' }, '—'))))))
        : h('p', { class: 'muted' }, 'No inputs.')),
      section('Outputs', (step.outputs ?? []).length ? h('table', { class: 'table compact' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Type'), h('th', {}, 'To'))),
        h('tbody', {}, step.outputs.map((output) => h('tr', { 'data-testid': 'solid-output' },
          h('td', {}, h('b', { class: 'mono' }, output.name),
            output.optional ? h('span', { class: 'badge' }, 'optional') : null,
            output.description ? h('div', { class: 'muted small' }, output.description) : null),
          h('td', {}, h('span', { class: 'type' }, output.type)),
          h('td', { class: 'mono small' }, (consumers.get(`${step.key}.${output.name}`) ?? []).join(', ') || h('span', { class: 'muted' }, '—'))))))
        : h('p', { class: 'muted' }, 'No outputs.')),
      section('Config schema', configSchemaView(step.config_schema)),
      step.config != null ? section('Config (manifest)', h('pre', { class: 'code small' }, prettyJson(step.config))) : null,
      section('Resources', (step.resources ?? []).length
        ? h('div', { class: 'chips' }, step.resources.map((r) => h('span', { class: 'chip' }, h('b', { class: 'mono' }, r.name), ' ', r.kind)))
        : h('p', { class: 'muted' }, 'Needs no resources.'))),
  });
}

function section(title, ...body) {
  return h('div', { class: 'section' }, h('h3', {}, title), body);
}

/** A JSON Schema as a table of its properties (nested ones dotted), with the raw schema. */
function configSchemaView(schema) {
  if (!schema) return h('p', { class: 'muted' }, 'Takes no config.');
  const rows = [];
  flattenSchema(schema, '', rows, 0);
  return h('div', { 'data-testid': 'config-schema' },
    rows.length ? h('table', { class: 'table compact' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Key'), h('th', {}, 'Type'), h('th', {}, 'Default'))),
      h('tbody', {}, rows.map((row) => h('tr', {},
        h('td', {}, h('span', { class: 'mono' }, row.key), row.required ? h('span', { class: 'badge warn' }, 'required') : null,
          row.description ? h('div', { class: 'muted small' }, row.description) : null),
        h('td', {}, h('span', { class: 'type' }, row.type)),
        h('td', { class: 'mono small' }, row.default === undefined ? '—' : JSON.stringify(row.default))))))
      : null,
    h('details', { class: 'raw' }, h('summary', {}, 'JSON Schema'), h('pre', { class: 'code small' }, prettyJson(schema))));
}

function flattenSchema(schema, prefix, rows, depth) {
  const required = new Set(schema.required ?? []);
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    const key = prefix ? `${prefix}.${name}` : name;
    rows.push({ key, type: schemaType(sub), default: sub?.default, description: sub?.description, required: required.has(name) });
    if (sub?.properties && depth < 4) flattenSchema(sub, key, rows, depth + 1);
  }
}

function schemaType(schema) {
  if (!schema || typeof schema !== 'object') return 'any';
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return variants.map(schemaType).join(' | ');
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type;
  if (type === 'array') return `${schemaType(schema.items)}[]`;
  return type ?? 'any';
}

/* ======================================================================================
 * 7. Launchpad
 * ==================================================================================== */

/**
 * Every key path of a JSON text and the line it is on ("solids.greet.config.name" -> 4),
 * so a problem's key can be pointed at in the editor. A tolerant one-pass scan: it works
 * on text that does not parse, too.
 */
function jsonKeyLines(text) {
  const lines = new Map();
  const stack = []; // {array: bool, key}
  let line = 1;
  let lastString = null;
  let lastStringLine = 1;
  const path = () => stack.map((frame) => frame.key).filter((k) => k != null).join('.');
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"' && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      try { lastString = JSON.parse(text.slice(i, j + 1)); } catch { lastString = text.slice(i + 1, j); }
      lastStringLine = line;
      i = j;
    } else if (c === ':') {
      const top = stack.at(-1);
      if (top && !top.array && lastString != null) {
        top.key = lastString;
        lines.set(path(), lastStringLine);
      }
    } else if (c === '{' || c === '[') {
      stack.push({ array: c === '[', key: c === '[' ? 0 : null });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack.at(-1);
      if (top?.array) top.key++;
    }
  }
  return lines;
}

/** The editor line a problem's key points at: the key itself, or its nearest parent. */
function lineForKey(keyLines, key) {
  if (!key) return null;
  const parts = String(key).split('.');
  for (let drop = 0; drop < Math.min(2, parts.length); drop++) {
    for (let end = parts.length; end > drop; end--) {
      const line = keyLines.get(parts.slice(drop, end).join('.'));
      if (line) return line;
    }
  }
  return null;
}

/** Where JSON.parse failed, as a line number, from V8's message ("... at position 42"). */
function lineOfParseError(text, message) {
  const lineMatch = /line (\d+)/.exec(message);
  if (lineMatch) return Number(lineMatch[1]);
  const positionMatch = /position (\d+)/.exec(message);
  if (!positionMatch) return null;
  const position = Number(positionMatch[1]);
  let line = 1;
  for (let i = 0; i < position && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}

const EDITOR_LINE_HEIGHT = 20;

/** A JSON textarea with line numbers and highlighted problem lines. */
function createConfigEditor(onInput) {
  const gutter = h('pre', { class: 'editor-gutter', 'aria-hidden': 'true' });
  const marks = h('div', { class: 'editor-marks', 'aria-hidden': 'true' });
  const textarea = h('textarea', {
    class: 'editor-text', 'data-testid': 'config-editor', spellcheck: 'false', wrap: 'off',
    autocapitalize: 'off', autocomplete: 'off', 'aria-label': 'Run config (JSON)',
  });
  const element = h('div', { class: 'editor' }, gutter, h('div', { class: 'editor-main' }, marks, textarea));
  let lineCount = 0;
  let marked = []; // [{line, message}]

  function renderGutter() {
    const count = textarea.value.split('\n').length;
    if (count === lineCount) return;
    lineCount = count;
    gutter.textContent = Array.from({ length: count }, (_, i) => i + 1).join('\n');
  }
  function renderMarks() {
    marks.replaceChildren(...marked.map(({ line, message }) =>
      h('div', { class: 'editor-mark', title: message, style: { top: `${(line - 1) * EDITOR_LINE_HEIGHT + 10 - textarea.scrollTop}px` } })));
    for (const number of gutter.querySelectorAll('.bad')) number.classList.remove('bad');
  }
  textarea.addEventListener('input', () => { renderGutter(); onInput(); });
  textarea.addEventListener('scroll', () => { gutter.scrollTop = textarea.scrollTop; renderMarks(); });
  textarea.addEventListener('keydown', (event) => {
    // Tab indents instead of leaving the editor.
    if (event.key !== 'Tab' || event.shiftKey) return;
    event.preventDefault();
    textarea.setRangeText('  ', textarea.selectionStart, textarea.selectionEnd, 'end');
    textarea.dispatchEvent(new Event('input'));
  });

  return {
    element,
    textarea,
    get text() { return textarea.value; },
    set text(value) { textarea.value = value; renderGutter(); },
    mark(lines) { marked = lines; renderMarks(); },
    goToLine(line) {
      const offsets = textarea.value.split('\n').slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0);
      textarea.focus();
      textarea.setSelectionRange(offsets, offsets);
      textarea.scrollTop = Math.max(0, (line - 4) * EDITOR_LINE_HEIGHT);
    },
  };
}

/** "a=1, b=2" -> {a: "1", b: "2"}; throws on an entry without "=". */
function parseTags(text) {
  const tags = {};
  for (const entry of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new Error(`\`${entry}\` is not KEY=VALUE`);
    tags[entry.slice(0, eq).trim()] = entry.slice(eq + 1).trim();
  }
  return tags;
}

const LAUNCH_PARTITIONS_SHOWN = 1000; // keys the partition picker offers, newest first (any other can be typed)

/**
 * A pipeline's partitions (`GET /api/pipelines/{name}/partitions`), or null when it is not
 * partitioned: the pipelines list says so (its `partition_set`), else the endpoint's 404.
 */
async function loadPartitions(scope, name) {
  const info = manifestInfo ?? await loadManifestInfo(scope);
  const listed = info.pipelines?.find((p) => p.name === name);
  if (listed && 'partition_set' in listed && listed.partition_set == null) return null;
  try {
    return await scope.api(`/api/pipelines/${enc(name)}/partitions`);
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}

/** The run config JSON of `text` as an object ({} when empty), or null when it is not one. */
function configObject(text) {
  if (!text.trim()) return {};
  try {
    const config = JSON.parse(text);
    return config && typeof config === 'object' && !Array.isArray(config) ? config : null;
  } catch {
    return null;
  }
}

async function launchpadPage(scope, root, name, params) {
  root.classList.add('page-wide');
  root.append(pageHeader({
    eyebrow: 'Launchpad', title: name,
    actions: [h('a', { class: 'button ghost', href: `#/pipelines/${enc(name)}` }, 'Pipeline')],
  }), loadingView());
  // Asked alongside the graph: a partitioned pipeline gets a partition picker.
  const partitionsAsked = loadPartitions(scope, name).catch((error) => {
    if (!isAbort(error)) console.warn(error);
    return null;
  });
  const pipeline = hydrateGraph(await scope.api(`/api/pipelines/${enc(name)}`));
  const partitions = await partitionsAsked;
  root.lastChild.remove();

  const template = prettyJson(pipeline.config_template);
  const defaultMode = pipeline.modes.find((m) => m.default) ?? pipeline.modes[0];
  const modeSelect = h('select', { 'data-testid': 'mode-select', value: defaultMode?.name ?? '' },
    pipeline.modes.length
      ? pipeline.modes.map((mode) => h('option', { value: mode.name }, `${mode.name}${mode.default ? ' (default)' : ''}`))
      : h('option', { value: '' }, '(no modes)'));
  const presetSelect = h('select', { 'data-testid': 'preset-select' },
    h('option', { value: '' }, 'None'),
    pipeline.presets.map((preset) => h('option', { value: preset.name }, preset.name)));
  const selectionInput = h('input', { 'data-testid': 'selection-input', type: 'text', placeholder: 'all steps · e.g. *salutation, hello_world+', spellcheck: 'false' });
  const tagsInput = h('input', { 'data-testid': 'tags-input', type: 'text', placeholder: 'team=data, ticket=42', spellcheck: 'false' });
  // The partition picker (a partitioned pipeline only) and the config JSON's `partition`
  // follow each other: picking a key puts it in the JSON, editing the JSON moves the picker.
  // A time set's keys newest first; a static set's in its order.
  const newestFirst = !partitions ? [] : partitions.cadence ? partitions.partitions.slice().reverse() : partitions.partitions;
  const partitionInput = partitions && h('input', {
    'data-testid': 'partition-input', type: 'text', list: 'launch-partition-keys', spellcheck: 'false', autocomplete: 'off',
    placeholder: newestFirst.length ? `none · e.g. ${newestFirst[0].key}` : 'none', oninput: () => { writePartition(); revalidate(); },
  });
  const partitionKeys = partitions && h('datalist', { id: 'launch-partition-keys', 'data-testid': 'partition-keys' },
    newestFirst.slice(0, LAUNCH_PARTITIONS_SHOWN).map((p) => h('option', { value: p.key, label: PARTITION_STATE_LABELS[p.state] ?? p.state })));
  const partitionHint = h('span', { class: 'field-hint', 'data-testid': 'partition-hint' });
  const editor = createConfigEditor(() => { readPartition(); revalidate(); });
  editor.text = template;
  const problemsBox = h('div', { class: 'problems-box', 'data-testid': 'config-problems', hidden: true });
  const verdict = h('div', { class: 'verdict' });
  const submit = h('button', { class: 'button primary large', 'data-testid': 'launch-submit', disabled: true, onclick: launch }, '▶ Launch run');
  const planBox = h('div', { class: 'card-body' }, h('p', { class: 'muted' }, 'Validating…'));
  const modeBox = h('div', { class: 'card-body' });

  let validation = 0; // the latest request; older answers are ignored
  let validating = null; // the AbortController of the validation in flight
  let launching = false;
  let problems = [];
  let pending = true;
  scope.onDispose(() => validating?.abort());

  /** Stops the validation in flight: a newer edit makes its answer worthless. */
  function abortValidation() {
    validating?.abort();
    validating = null;
  }

  /** The picker's key into the config JSON (first), or out of it when the picker is empty. */
  function writePartition() {
    if (!partitionInput) return;
    const config = configObject(editor.text);
    // JSON that does not parse is left alone (its problem is shown); the picker follows it once it parses.
    if (!config) return;
    const key = partitionInput.value.trim();
    if ((config.partition ?? '') === key) return;
    const rest = { ...config };
    delete rest.partition;
    editor.text = prettyJson(key ? { partition: key, ...rest } : rest);
  }

  /** The config JSON's `partition` into the picker. */
  function readPartition() {
    if (!partitionInput) return;
    const config = configObject(editor.text);
    if (!config) return;
    const key = config.partition == null ? '' : String(config.partition);
    if (partitionInput.value.trim() !== key) partitionInput.value = key;
  }

  /** What the picked partition is: its state and runs, or that it has a problem. */
  function renderPartition() {
    if (!partitionInput) return;
    const problem = problems.find((p) => p.key === 'partition');
    const key = partitionInput.value.trim();
    const known = partitions.partitions.find((p) => p.key === key);
    if (problem) partitionInput.setAttribute('aria-invalid', 'true');
    else partitionInput.removeAttribute('aria-invalid');
    partitionHint.textContent = problem ? `Not a partition of set ${partitions.partition_set} (see the problems below).`
      : known ? `${PARTITION_STATE_LABELS[known.state] ?? known.state} · ${known.runs === 1 ? '1 run' : `${formatCount(known.runs)} runs`}`
        : key ? `set ${partitions.partition_set}` : `set ${partitions.partition_set} · ${formatCount(partitions.partitions.length)} partitions`;
  }

  /** The launch request, or the local problems that stop one from being made. */
  function buildRequest() {
    const local = [];
    let config = null;
    if (editor.text.trim()) {
      try {
        config = JSON.parse(editor.text);
        if (typeof config !== 'object' || Array.isArray(config) || config === null) {
          local.push({ key: 'config', message: 'the run config must be a JSON object', line: 1 });
        }
      } catch (error) {
        local.push({ key: 'config', message: `invalid JSON: ${error.message}`, line: lineOfParseError(editor.text, error.message) });
      }
    }
    let tags = null;
    try {
      tags = tagsInput.value.trim() ? parseTags(tagsInput.value) : null;
    } catch (error) {
      local.push({ key: 'tags', message: error.message });
    }
    const request = {
      pipeline: name, mode: modeSelect.value || null, preset: presetSelect.value || null, config,
      selection: selectionInput.value.trim() || null, tags,
    };
    return { request, local };
  }

  const validateLater = scope.debounce(validate, 300);
  function revalidate() {
    // Bad JSON is reported at once, without asking the server.
    const { local } = buildRequest();
    pending = true;
    if (local.length) {
      validateLater.cancel();
      validation++;
      abortValidation();
      showProblems(local, null);
      return;
    }
    renderVerdict();
    validateLater();
  }

  async function validate() {
    const { request, local } = buildRequest();
    if (local.length) return showProblems(local, null);
    const ticket = ++validation;
    abortValidation();
    const controller = (validating = new AbortController());
    try {
      const answer = await api(`/api/pipelines/${enc(name)}/validate`, { method: 'POST', body: request, signal: controller.signal });
      if (ticket !== validation) return;
      clearError('validate');
      showProblems(answer.ok ? [] : answer.problems ?? [], answer.ok ? answer.steps ?? [] : null);
    } catch (error) {
      if (ticket !== validation || isAbort(error)) return;
      if (error.kind === 'network') showError(error, 'validate');
      showProblems(error.problems.length ? error.problems : [{ key: error.kind, message: error.message }], null);
    } finally {
      if (validating === controller) validating = null;
    }
  }

  function showProblems(list, steps) {
    pending = false;
    const keyLines = jsonKeyLines(editor.text);
    problems = list.map((problem) => ({ ...problem, editorLine: problem.line && problem.key === 'config' ? problem.line : lineForKey(keyLines, problem.key) }));
    problemsBox.hidden = problems.length === 0;
    setChildren(problemsBox, problems.length
      ? [h('div', { class: 'problems-title' }, `${problems.length} problem${problems.length === 1 ? '' : 's'}`),
        problemList(problems, { onPick: (p) => p.editorLine && editor.goToLine(p.editorLine) })]
      : []);
    editor.mark(problems.filter((p) => p.editorLine).map((p) => ({ line: p.editorLine, message: `${p.key}: ${p.message}` })));
    renderPlan(steps);
    renderPartition();
    renderVerdict();
  }

  function renderVerdict() {
    submit.disabled = launching || pending || problems.length > 0;
    verdict.className = `verdict ${pending ? 'pending' : problems.length ? 'bad' : 'good'}`;
    verdict.textContent = pending ? 'Validating…' : problems.length ? 'Fix the problems above to launch.' : 'The run config is valid.';
  }

  function renderPlan(steps) {
    if (!steps) {
      setChildren(planBox, h('p', { class: 'muted' }, 'No plan while the config has problems.'));
      return;
    }
    const shown = steps.slice(0, 300);
    setChildren(planBox, 
      h('p', {}, h('b', {}, formatCount(steps.length)), ` of ${formatCount(pipeline.steps.length)} steps will run, in this order:`),
      h('ol', { class: 'plan-list' }, shown.map((key) => h('li', { class: 'mono' }, key))),
      steps.length > shown.length ? h('p', { class: 'muted' }, `… and ${formatCount(steps.length - shown.length)} more`) : null);
  }

  function renderMode() {
    const mode = pipeline.modes.find((m) => m.name === modeSelect.value);
    setChildren(modeBox, mode
      ? h('div', { class: 'stack' },
        h('div', { class: 'muted' }, mode.description || 'No description.'),
        h('div', { class: 'chips' }, mode.resources.length ? mode.resources.map((r) => h('span', { class: 'chip mono' }, r)) : h('span', { class: 'muted' }, 'Binds no resources.')))
      : h('p', { class: 'muted' }, 'The manifest declares no mode.'));
  }

  async function launch() {
    const { request, local } = buildRequest();
    if (local.length) return showProblems(local, null);
    if (launching) return;
    launching = true;
    submit.disabled = true;
    submit.textContent = 'Launching…';
    try {
      const answer = await scope.api('/api/runs', { method: 'POST', body: request });
      location.hash = `#/runs/${enc(answer.run.id)}`;
    } catch (error) {
      if (isAbort(error)) return;
      launching = false;
      showError(error);
      if (error.problems.length) showProblems(error.problems, null);
      submit.textContent = '▶ Launch run';
      renderVerdict();
    }
  }

  presetSelect.addEventListener('change', () => {
    const preset = pipeline.presets.find((p) => p.name === presetSelect.value);
    editor.text = preset ? prettyJson(preset.config ?? {}) : template;
    // The request's mode overrides the config's: follow a preset that names one.
    const presetMode = preset?.config?.mode;
    if (presetMode && pipeline.modes.some((m) => m.name === presetMode)) { modeSelect.value = presetMode; renderMode(); }
    // The partition picked stays, unless the preset names one.
    if (preset?.config?.partition != null) readPartition();
    else writePartition();
    revalidate();
  });
  modeSelect.addEventListener('change', () => { renderMode(); revalidate(); });
  selectionInput.addEventListener('input', revalidate);
  tagsInput.addEventListener('input', revalidate);

  const configured = pipeline.steps.filter((step) => step.config_schema);
  const field = (label, control, hint) => h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), control, hint ? h('span', { class: 'field-hint' }, hint) : null);
  root.append(h('div', { class: 'split launch-split' },
    card({
      title: 'Run config',
      actions: [
        h('button', { class: 'button small ghost', onclick: () => { try { editor.text = prettyJson(JSON.parse(editor.text)); revalidate(); } catch { /* the problem is shown already */ } } }, 'Format'),
        h('button', { class: 'button small ghost', onclick: () => { presetSelect.value = ''; editor.text = template; readPartition(); revalidate(); } }, 'Reset'),
      ],
      body: h('div', { class: 'card-body stack' },
        h('div', { class: `form-row${partitionInput ? ' with-partition' : ''}` },
          partitionInput ? field('Partition', [partitionInput, partitionKeys, partitionHint]) : null,
          field('Mode', modeSelect),
          field('Preset', presetSelect),
          field('Step selection', selectionInput),
          field('Tags', tagsInput)),
        editor.element,
        problemsBox,
        h('div', { class: 'launch-bar' }, verdict, submit)),
    }),
    h('aside', { class: 'side-panel stack' },
      card({ title: 'Plan', body: planBox }),
      card({ title: 'Mode', body: modeBox }),
      card({
        title: 'Config schemas',
        body: h('div', { class: 'card-body list' }, configured.slice(0, 200).map((step) =>
          h('details', { class: 'list-item', open: configured.length <= 3 }, h('summary', {}, h('span', { class: 'mono' }, step.key)), configSchemaView(step.config_schema))),
        configured.length ? null : h('p', { class: 'muted' }, 'No step takes config.')),
      }))));
  // `#/launch/NAME?partition=KEY` opens with the key picked.
  if (partitionInput && params?.get('partition')) {
    partitionInput.value = params.get('partition');
    writePartition();
  }
  renderMode();
  renderPartition();
  revalidate();
}

/* ======================================================================================
 * 8. Runs list
 * ==================================================================================== */

async function runsPage(scope, root, params) {
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
 * 9. Run page
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

async function runPage(scope, root, runId) {
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
          h('div', {}, h('button', { class: 'button primary', 'data-testid': 'run-retry', onclick: () => route() }, '↻ Retry'))),
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

/* ---- Gantt: one row per step, one bar per attempt, on a shared time axis ---------- */

const GANTT_ROW_HEIGHT = 26;

/** Round step sizes for a time axis: 1, 2, 5 × 10^k µs. */
function niceStep(rough) {
  const power = 10 ** Math.floor(Math.log10(Math.max(rough, 1)));
  for (const m of [1, 2, 5, 10]) if (m * power >= rough) return m * power;
  return 10 * power;
}

function createGantt({ onStepClick }) {
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

function createEventLog({ scope, runId, onStepClick, onEnd, onFirstPage, onStreamEvent, totals }) {
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

function createStepPanel({ scope, runId, stepOf, graphStepOf, onShowLogs, onToggle }) {
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

/* ======================================================================================
 * 10. Assets
 * ==================================================================================== */

async function assetsPage(scope, root) {
  root.append(pageHeader({ title: 'Assets', subtitle: 'Everything a step materialized, by asset key.' }), loadingView());
  const { assets } = await scope.api('/api/assets');
  root.lastChild.remove();
  const search = h('input', { type: 'search', placeholder: 'Filter assets…', 'data-testid': 'asset-search' });
  const tbody = h('tbody');
  const render = () => {
    const needle = search.value.trim().toLowerCase();
    const shown = assets.filter((a) => a.key.toLowerCase().includes(needle));
    tbody.replaceChildren(...shown.map((asset) => {
      const latest = asset.latest ?? {};
      const event = latest.event ?? {};
      return h('tr', { 'data-testid': 'asset-row', 'data-key': asset.key, class: 'clickable', onclick: (e) => { if (!e.target.closest('a')) location.hash = `#/assets/${enc(asset.key)}`; } },
        h('td', {}, h('a', { class: 'mono strong-link', href: `#/assets/${enc(asset.key)}` }, asset.key)),
        h('td', { class: 'num' }, formatCount(asset.materializations)),
        h('td', { class: 'nowrap' }, formatTime(event.timestamp)),
        h('td', { class: 'mono small' }, latest.run ?? '—'),
        h('td', { class: 'mono' }, latest.step ?? '—'),
        h('td', { class: 'muted' }, event.description ?? ''));
    }));
  };
  search.addEventListener('input', render);
  render();
  root.append(card({
    title: `Assets · ${assets.length}`,
    actions: search,
    body: assets.length
      ? h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, ['Asset key', 'Materializations', 'Latest', 'Run', 'Step', 'Description'].map((t) => h('th', {}, t)))),
        tbody)
      : emptyState('No assets yet', 'A solid materializes an asset with context.materialize(...).'),
  }));
}

const ASSET_PAGE = 200; // materializations shown at once; the rest on request

async function assetPage(scope, root, key) {
  root.append(pageHeader({ eyebrow: 'Asset', title: key, actions: [h('a', { class: 'button ghost', href: '#/assets' }, 'All assets')] }), loadingView());
  const answer = await scope.api(`/api/assets/history${query({ key })}`);
  root.lastChild.remove();
  const history = answer.history ?? [];
  const newestFirst = [...history].reverse();
  const list = h('div', { class: 'asset-history', 'data-testid': 'asset-history' });
  const more = h('button', { class: 'button small', onclick: () => showMore() });
  const footer = h('div', { class: 'table-footer' }, more);
  let shown = 0;
  function showMore() {
    const next = newestFirst.slice(shown, shown + ASSET_PAGE);
    appendChildren(list, next.map(assetEventView));
    shown += next.length;
    footer.hidden = shown >= newestFirst.length;
    more.textContent = `Show ${formatCount(Math.min(ASSET_PAGE, newestFirst.length - shown))} older (${formatCount(newestFirst.length - shown)} left)`;
  }
  if (newestFirst.length) showMore();
  else list.append(emptyState('Never materialized'));
  appendChildren(root, [
    metadataCharts(history.slice(-500)),
    card({ title: `Materializations · ${formatCount(history.length)}`, body: [list, footer] }),
  ]);
}

function assetEventView(entry) {
  return h('div', { class: 'asset-event', 'data-testid': 'asset-event', 'data-run': entry.run },
    h('div', { class: 'asset-event-head' },
      h('span', { class: 'nowrap' }, formatTime(entry.event?.timestamp)),
      h('span', {}, 'run ', h('a', { class: 'mono', href: `#/runs/${enc(entry.run)}` }, entry.run)),
      h('span', {}, 'step ', h('b', { class: 'mono' }, entry.step))),
    entry.event?.description ? h('div', { class: 'description' }, entry.event.description) : null,
    metadataTable(entry.event?.metadata));
}

/** A small line chart per numeric metadata label over an asset's history. */
function metadataCharts(history) {
  const series = new Map();
  for (const entry of history) {
    for (const m of entry.event?.metadata ?? []) {
      if (m.value?.type !== 'integer' && m.value?.type !== 'float') continue;
      if (!series.has(m.label)) series.set(m.label, []);
      series.get(m.label).push([entry.event.timestamp, Number(m.value.value)]);
    }
  }
  // A label whose value never changed has nothing to plot.
  const varies = (points) => points.some((p) => p[1] !== points[0][1]);
  const charts = [...series].filter(([, points]) => points.length >= 2 && varies(points)).slice(0, 6);
  if (!charts.length) return null;
  return card({ title: 'Metadata over time', body: h('div', { class: 'charts' }, charts.map(([label, points]) => sparkline(label, points))) });
}

function sparkline(label, points) {
  const W = 260;
  const H = 70;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const px = (x) => (x1 === x0 ? W / 2 : ((x - x0) / (x1 - x0)) * (W - 8) + 4);
  const py = (y) => (y1 === y0 ? H / 2 : H - 6 - ((y - y0) / (y1 - y0)) * (H - 12));
  const d = points.map((p, i) => `${i ? 'L' : 'M'}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ');
  return h('div', { class: 'chart' },
    h('div', { class: 'chart-head' }, h('b', {}, label), h('span', { class: 'mono' }, formatNumberish(ys.at(-1)))),
    svgEl('svg', { viewBox: `0 0 ${W} ${H}`, class: 'sparkline' },
      svgEl('path', { d, class: 'sparkline-line' }),
      points.map((p) => svgEl('circle', { cx: px(p[0]), cy: py(p[1]), r: 2.5, class: 'sparkline-dot' }))),
    h('div', { class: 'chart-foot muted small' }, `min ${formatNumberish(y0)} · max ${formatNumberish(y1)}`));
}

/* ======================================================================================
 * 11. Partitions and backfills
 * ==================================================================================== */

const PARTITION_STATES = ['succeeded', 'failed', 'running', 'missing'];
const PARTITION_STATE_LABELS = { succeeded: 'Succeeded', failed: 'Failed', running: 'Running', missing: 'Missing' };
const PARTITIONS_POLL_MS = 2000; // the matrix and the backfills refresh this often
const BACKFILLS_SHOWN = 25; // rows of a backfills list before "Show all"
const BACKFILL_TAG = 'weft/backfill'; // the tag naming a run's backfill
const PARTITION_TAG = 'weft/partition'; // the tag naming a run's partition key

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
function pipelineHeader(name) {
  return pageHeader({
    eyebrow: 'Pipeline', title: name,
    actions: [
      h('a', { class: 'button ghost', href: `#/runs?pipeline=${enc(name)}` }, 'View runs'),
      h('a', { class: 'button primary', href: `#/launch/${enc(name)}`, 'data-testid': 'launch-button' }, '▶ Launchpad'),
    ],
  });
}

/** The tabs of a pipeline's pages; Partitions shows once the pipeline is known to be partitioned. */
function pipelineTabs(name, active) {
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
async function isPartitioned(scope, name) {
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

async function partitionsPage(scope, root, name) {
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

async function backfillsPage(scope, root) {
  root.append(pageHeader({ title: 'Backfills', subtitle: 'Every backfill in the store, newest first: one run per partition of a partitioned pipeline. Updates live.' }));
  root.firstChild.querySelector('.title-row').append(h('span', { class: 'live-indicator', title: `Refreshes every ${PARTITIONS_POLL_MS / 1000} seconds` }, h('span', { class: 'dot' }), 'Live'));
  const list = createBackfillList({ scope });
  root.append(list.element);
  await list.refresh();
  scope.every(PARTITIONS_POLL_MS, list.refresh);
}

async function backfillPage(scope, root, id) {
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
 * 12. Automation: schedules and sensors
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

async function automationPage(scope, root) {
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

/* ======================================================================================
 * 13. Boot
 * ==================================================================================== */

window.addEventListener('hashchange', route);
route();
// The manifest path in the top bar, unless a page fetched it already. A run page opens
// first: the server reads a big manifest slowly, and the run's summary comes before.
setTimeout(() => {
  if (manifestInfo) return;
  api('/api/pipelines').then((info) => {
    manifestInfo = info;
    document.getElementById('manifest-path').textContent = info.manifest ?? '';
  }).catch(() => {}); // the pages that need it show its error
}, location.hash.startsWith('#/runs/') ? 3000 : 0);

// For tests and the curious: the layout is pure and can be timed from the console.
window.weft = { layoutDag };

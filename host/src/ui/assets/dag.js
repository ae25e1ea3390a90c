// weft UI: the DAG of a pipeline or a run. A pure layout, an SVG renderer for small graphs
// and a canvas renderer for big ones.

import {
  clamp, formatCount, h, iconButton, setChildren, STEP_STATUS_LABELS, svgEl, truncate,
} from './lib.js';

/* ======================================================================================
 * DAG: layout and rendering
 * ==================================================================================== */

export const DAG = { nodeWidth: 208, nodeHeight: 54, gapX: 28, gapY: 64, svgLimit: 300, wrapAt: 40 };

/**
 * Lays out a DAG top to bottom: longest-path layers (Kahn's order), barycenter ordering
 * within layers (a few down and up sweeps), then each node under the mean of its parents
 * with neighbours pushed apart. Linear in nodes and edges but for the sorts. Everything
 * is flat typed arrays and native numeric sorts, so 10,000 nodes lay out in tens of
 * milliseconds even before the JIT warms up. `wrapAt` turns a wider layer into a grid
 * (a 10,000-step fan-out stays viewable).
 * nodes: [{key, upstream: [key]}] -> {x, y, width, height, edgeFrom, edgeTo, layerCount}
 */
export function layoutDag(nodes, { nodeWidth, nodeHeight, gapX, gapY, wrapAt = 0 }) {
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
export function createDag({ nodes, testid, onNodeClick, subtitleOf = null }) {
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
export function statusLegend() {
  return h('div', { class: 'legend' }, Object.entries(STEP_STATUS_LABELS).map(([status, label]) =>
    h('span', { class: `legend-item step-${status}` }, h('span', { class: 'dot' }), label)));
}

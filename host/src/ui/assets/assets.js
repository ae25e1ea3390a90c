// weft UI: the assets list and an asset's page (its materializations and metadata charts).

import {
  appendChildren, card, emptyState, enc, formatCount, formatNumberish, formatTime, h,
  loadingView, metadataTable, pageHeader, query, svgEl,
} from './lib.js';

/* ======================================================================================
 * Assets
 * ==================================================================================== */

export async function assetsPage(scope, root) {
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

export async function assetPage(scope, root, key) {
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

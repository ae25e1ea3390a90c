// weft UI: a single-page app over the weft JSON API (docs/api.md).
// Plain ES2022 modules: no framework, no build step, no network access beyond the server.
// index.html loads this one; it holds the router and the boot, and imports the rest:
//   lib.js         DOM and formatting helpers, API client and error banner, page scope,
//                  shared components (pills, metadata, problems, virtual list), graph answers
//   dag.js         DAG: layout, SVG renderer (small graphs), canvas renderer (big graphs)
//   pipelines.js   Pipelines list, pipeline page, launchpad
//   runs.js        Runs list, run page and its header
//   run-panels.js  Run page parts: Gantt, event log, step panel
//   assets.js      Assets
//   partitions.js  Partitions and backfills (status matrix, backfill panel and lists),
//                  automation (schedules and sensors)

import {
  api, banners, emptyState, h, isAbort, manifestInfo, pageHeader, PageScope, renderBanners,
  setManifestInfo, setRouter, showError,
} from './lib.js';
import { layoutDag } from './dag.js';
import { automationPage, backfillPage, backfillsPage, partitionsPage } from './partitions.js';
import { launchpadPage, pipelinePage, pipelinesPage } from './pipelines.js';
import { runPage, runsPage } from './runs.js';
import { assetPage, assetsPage } from './assets.js';

/* ======================================================================================
 * Router
 * ==================================================================================== */

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
 * Boot
 * ==================================================================================== */

setRouter(route);
window.addEventListener('hashchange', route);
route();
// The manifest path in the top bar, unless a page fetched it already. A run page opens
// first: the server reads a big manifest slowly, and the run's summary comes before.
setTimeout(() => {
  if (manifestInfo) return;
  api('/api/pipelines').then((info) => {
    setManifestInfo(info);
    document.getElementById('manifest-path').textContent = info.manifest ?? '';
  }).catch(() => {}); // the pages that need it show its error
}, location.hash.startsWith('#/runs/') ? 3000 : 0);

// For tests and the curious: the layout is pure and can be timed from the console.
window.weft = { layoutDag };

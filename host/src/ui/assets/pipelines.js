// weft UI: the pipelines list, a pipeline page (its graph and solids) and the launchpad.

import {
  api, card, clearError, emptyState, enc, formatCount, h, hydrateGraph, iconButton, isAbort,
  loadingView, loadManifestInfo, manifestInfo, pageHeader, prettyJson, problemList, section,
  setChildren, showError,
} from './lib.js';
import { createDag } from './dag.js';
import {
  isPartitioned, PARTITION_STATE_LABELS, pipelineHeader, pipelineTabs,
} from './partitions.js';

/* ======================================================================================
 * Pipelines list and pipeline page
 * ==================================================================================== */

export async function pipelinesPage(scope, root) {
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
export function stepSignature(step) {
  const inputs = (step.inputs ?? []).map((input) => `${input.type}${input.multiple ? '[]' : ''}${input.optional ? '?' : ''}`);
  const outputs = (step.outputs ?? []).map((output) => output.type);
  return `(${inputs.join(', ')}) → ${outputs.length ? outputs.join(', ') : '()'}`;
}

export function stepTooltip(step) {
  const lines = [step.key];
  if (step.solid && step.solid !== step.key) lines.push(`solid: ${step.solid}`);
  if (step.description) lines.push(step.description);
  for (const input of step.inputs ?? []) lines.push(`in  ${input.name}: ${input.type}`);
  for (const output of step.outputs ?? []) lines.push(`out ${output.name}: ${output.type}`);
  return lines.join('\n');
}

export async function pipelinePage(scope, root, name) {
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
 * Launchpad
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

export async function launchpadPage(scope, root, name, params) {
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

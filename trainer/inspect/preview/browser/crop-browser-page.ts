/*
 * The crop browser's page: static HTML and a script, shipped inside the package (no framework, nothing
 * fetched from elsewhere). The script asks this process only for JSON records and PNG slices, so the
 * browser never talks to the voxelfeed server. Kept as strings so the build ships them with the code.
 */

export const CROP_BROWSER_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>voxelfeed crop browser</title>
<style>
  body { background: #181820; color: #ddd; font: 14px system-ui, sans-serif; margin: 16px; }
  header, .controls { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; margin-bottom: 12px; }
  main { display: flex; gap: 24px; align-items: flex-start; }
  canvas { image-rendering: pixelated; border: 1px solid #444; }
  table { border-collapse: collapse; }
  td, th { padding: 2px 8px; text-align: left; border-bottom: 1px solid #333; font-variant-numeric: tabular-nums; }
  #error { color: #ff6060; white-space: pre-wrap; }
  .help { color: #999; }
</style>
</head>
<body>
<header><strong>voxelfeed crop browser</strong><span id="request"></span></header>
<div class="controls">
  <label><span id="key-label">step</span> <input id="key" type="number" min="0" step="1"></label>
  <label>sample <select id="sample"></select></label>
  <label><input id="overlay" type="checkbox" checked> mask contour (m)</label>
  <span id="position"></span>
</div>
<p class="help">Slices: arrow up/down or the mouse wheel. Samples: arrow left/right. Steps: page up/down. Mask: m.</p>
<div id="error"></div>
<main>
  <canvas id="slice" tabindex="0" width="1" height="1"></canvas>
  <div>
    <h3>sample</h3><table id="record"></table>
    <h3>batch</h3><table id="statistics"></table>
  </div>
</main>
<script src="/app.js"></script>
</body>
</html>
`;

export const CROP_BROWSER_SCRIPT = `'use strict';
const $ = (id) => document.getElementById(id);
const state = { info: null, key: 0, batch: null, sample: 0, z: 0, overlay: true, scale: 1, drawn: 0 };

async function getJson(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error((await response.text()).trim());
  return response.json();
}

function showError(error) {
  $('error').textContent = error ? String(error.message || error) : '';
}

function row(table, cells, header) {
  const tr = table.insertRow();
  for (const cell of cells) {
    const td = document.createElement(header ? 'th' : 'td');
    td.textContent = cell;
    tr.appendChild(td);
  }
}

function keys() {
  const pages = state.info.pages;
  return pages.kind === 'indices' ? pages.indices : null;
}

async function start() {
  state.info = await getJson('/api/info');
  const request = state.info.request;
  $('request').textContent = Object.entries(request).map(([k, v]) => k + ' ' + v).join(' \\u00b7 ');
  const pages = state.info.pages;
  $('key-label').textContent = pages.kind === 'indices' ? 'plan position' : 'step';
  await loadBatch(pages.kind === 'indices' ? pages.indices[0] : pages.first);
}

async function loadBatch(key) {
  try {
    const batch = await getJson('/api/batch?key=' + key);
    state.key = key;
    state.batch = batch;
    state.sample = Math.min(state.sample, batch.samples.length - 1);
    $('key').value = key;
    const select = $('sample');
    select.replaceChildren(...batch.samples.map((s, i) => new Option(i + ': ' + s.mode + ' #' + s.index, String(i))));
    select.value = String(state.sample);
    const s1 = batch.shape[2], s2 = batch.shape[3];
    state.scale = Math.max(1, Math.min(16, Math.floor(384 / Math.max(s1, s2))));
    showStatistics();
    pickSample(state.sample, true);
    showError(null);
  } catch (error) {
    showError(error);
    $('key').value = state.key;
  }
}

function showStatistics() {
  const table = $('statistics');
  const stats = state.batch.statistics;
  table.replaceChildren();
  row(table, ['mode', 'crops', 'with mask voxels', 'foreground share'], true);
  for (const [mode, m] of Object.entries(stats.modes)) {
    row(table, [mode, m.samples, m.withForeground, (100 * m.foregroundShare).toFixed(2) + '%']);
  }
  row(table, ['all', stats.samples, '', (100 * stats.foregroundShare).toFixed(2) + '%']);
  if (state.batch.step !== null) row(table, ['step', state.batch.step + ' of ' + state.batch.stepsInEpoch, '', '']);
}

function pickSample(sample, keepSlice) {
  const samples = state.batch.samples;
  state.sample = Math.max(0, Math.min(samples.length - 1, sample));
  $('sample').value = String(state.sample);
  const info = samples[state.sample];
  const table = $('record');
  table.replaceChildren();
  for (const [field, value] of Object.entries(info)) {
    const shown = value === null ? 'outside the crop' : typeof value === 'object' ? JSON.stringify(value) : String(value);
    row(table, [field, shown]);
  }
  const depth = state.batch.shape[1];
  if (!keepSlice) state.z = info.centreInCrop ? info.centreInCrop.z : 0;
  state.z = Math.max(0, Math.min(depth - 1, state.z));
  draw();
}

function draw() {
  const depth = state.batch.shape[1];
  $('position').textContent = 'slice ' + state.z + ' of 0..' + (depth - 1);
  const want = { key: state.key, sample: state.sample, z: state.z, overlay: state.overlay, scale: state.scale };
  const ticket = ++state.drawn;
  const image = new Image();
  image.onload = () => {
    if (ticket !== state.drawn) return;
    const canvas = $('slice');
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext('2d');
    context.imageSmoothingEnabled = false;
    context.drawImage(image, 0, 0);
    document.body.dataset.shown = JSON.stringify(want);
  };
  image.onerror = () => showError('cannot load slice ' + state.z);
  image.src = '/api/slice.png?key=' + want.key + '&sample=' + want.sample + '&z=' + want.z +
    '&overlay=' + (want.overlay ? 1 : 0) + '&scale=' + want.scale;
}

function moveSlice(delta) {
  const depth = state.batch.shape[1];
  const z = Math.max(0, Math.min(depth - 1, state.z + delta));
  if (z !== state.z) { state.z = z; draw(); }
}

function moveKey(delta) {
  const list = keys();
  if (list) {
    const at = list.indexOf(state.key) + delta;
    if (at >= 0 && at < list.length) loadBatch(list[at]);
    return;
  }
  const pages = state.info.pages;
  const last = pages.last === null ? state.batch.stepsInEpoch - 1 : pages.last;
  const next = state.key + delta;
  if (next >= pages.first && next <= last) loadBatch(next);
}

function setOverlay(on) {
  state.overlay = on;
  $('overlay').checked = on;
  draw();
}

document.addEventListener('keydown', (event) => {
  if (!state.batch || event.target.tagName === 'INPUT' && event.target.type === 'number') return;
  const actions = {
    ArrowUp: () => moveSlice(-1),
    ArrowDown: () => moveSlice(1),
    ArrowLeft: () => pickSample(state.sample - 1, true),
    ArrowRight: () => pickSample(state.sample + 1, true),
    PageUp: () => moveKey(-1),
    PageDown: () => moveKey(1),
    m: () => setOverlay(!state.overlay),
  };
  const action = actions[event.key];
  if (action) { event.preventDefault(); action(); }
});
$('slice').addEventListener('wheel', (event) => {
  if (!state.batch) return;
  event.preventDefault();
  moveSlice(event.deltaY > 0 ? 1 : -1);
}, { passive: false });
$('overlay').addEventListener('change', (event) => setOverlay(event.target.checked));
$('sample').addEventListener('change', (event) => pickSample(Number(event.target.value), true));
$('key').addEventListener('change', (event) => loadBatch(Number(event.target.value)));
start().catch(showError);
`;

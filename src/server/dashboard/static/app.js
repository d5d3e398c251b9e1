/**
 * The Tessera dashboard: models and versions with their state (and why one is not ready), request
 * rate and latency per model from /metrics, training jobs with live loss and metric curves over
 * the job's event stream, a form to start a fine-tune job and one to send a test inference.
 * Plain browser JavaScript served as is by the server; it talks to the same HTTP API as any client.
 */
import { LineChart } from './chart.js';
import { parseMetrics, quantile } from './metrics.js';

const $ = (id) => document.getElementById(id);
const POLL_MS = 2000;
/** Rates are averaged over at least this window. */
const RATE_WINDOW_MS = 10_000;
/** How much request-rate history the chart keeps. */
const HISTORY_MS = 180_000;
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

// ---- HTTP --------------------------------------------------------------------------------------

let token = sessionStorage.getItem('tessera-token') ?? '';

function headers(extra = {}) {
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

/** fetch + JSON; resolves to { ok, status, body } and never throws for HTTP errors. */
async function api(path, opts = {}) {
  const init = {
    method: opts.method ?? 'GET',
    headers: headers(opts.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
  };
  if (opts.body !== undefined) init.body = JSON.stringify(opts.body);
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    return { ok: false, status: 0, body: { error: `the server cannot be reached (${e.message})` } };
  }
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { text };
  }
  if (res.status === 401 || res.status === 403) {
    showBanner(
      res.status === 401
        ? 'This server asks for a bearer token: enter one at the top right.'
        : `The token lacks the scope for ${path} (${body.error ?? 'forbidden'}).`,
    );
  }
  return { ok: res.ok, status: res.status, body };
}

function showBanner(text) {
  const b = $('banner');
  b.textContent = text;
  b.hidden = !text;
}

function errorText(r) {
  return r.body?.error ?? `HTTP ${r.status}`;
}

// ---- small DOM helpers ---------------------------------------------------------------------------

function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function pill(text, kind) {
  const s = document.createElement('span');
  s.className = `pill ${kind}`;
  s.textContent = text;
  return s;
}

function fmt(v, digits = 3) {
  if (v === undefined || v === null || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return '∞';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return String(Number(v.toPrecision(digits)));
}

function fmtSeconds(s) {
  if (s === undefined || s === null || !Number.isFinite(s)) return '–';
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function fillSelect(select, names) {
  const keep = select.value;
  const current = [...select.options].map((o) => o.value);
  if (current.join('\n') === names.join('\n')) return false;
  select.replaceChildren(
    ...names.map((n) => {
      const o = document.createElement('option');
      o.value = n;
      o.textContent = n;
      return o;
    }),
  );
  if (names.includes(keep)) select.value = keep;
  return true;
}

// ---- server status -----------------------------------------------------------------------------

async function pollServer() {
  const meta = await api('/v2');
  $('server-info').textContent = meta.ok ? `${meta.body.name} ${meta.body.version}` : errorText(meta);
  const ready = await api('/v2/health/ready');
  const p = $('ready');
  p.textContent = ready.ok ? 'ready' : ready.status === 0 ? 'offline' : 'not ready';
  p.className = `pill ${ready.ok ? 'ok' : 'bad'}`;
}

// ---- metrics: the Prometheus text of /metrics ------------------------------------------------------

/** Per model-version counters of one /metrics scrape. */
function summarize(samples) {
  const by = new Map();
  const get = (l) => {
    const k = `${l.model}\u0000${l.version}`;
    if (!by.has(k))
      by.set(k, {
        model: l.model,
        version: l.version,
        success: 0,
        failure: 0,
        durationUs: 0,
        inferences: 0,
        buckets: new Map(),
      });
    return by.get(k);
  };
  for (const s of samples) {
    if (s.labels.model === undefined) continue;
    const e = get(s.labels);
    if (s.name === 'nv_inference_request_success') e.success += s.value;
    else if (s.name === 'nv_inference_request_failure') e.failure += s.value;
    else if (s.name === 'nv_inference_request_duration_us') e.durationUs += s.value;
    else if (s.name === 'nv_inference_count') e.inferences += s.value;
    else if (s.name === 'tessera_inference_request_duration_seconds_bucket')
      e.buckets.set(s.labels.le, s.value);
  }
  return by;
}

const scrapes = []; // { t, by }
const rateHistory = new Map(); // model -> [t, req/s][]

function rates(now, then) {
  const dt = (now.t - then.t) / 1000;
  const out = new Map();
  for (const [k, e] of now.by) {
    const p = then.by.get(k);
    const d = (f) => Math.max(0, e[f] - (p?.[f] ?? 0));
    const ok = d('success');
    const buckets = new Map();
    for (const [le, c] of e.buckets) buckets.set(le, Math.max(0, c - (p?.buckets.get(le) ?? 0)));
    out.set(k, {
      reqPerS: dt > 0 ? (ok + d('failure')) / dt : 0,
      errPerS: dt > 0 ? d('failure') / dt : 0,
      meanMs: ok > 0 ? d('durationUs') / ok / 1000 : Number.NaN,
      p95Ms: quantile(0.95, buckets) * 1000,
      inferences: e.inferences,
    });
  }
  return out;
}

async function scrapeMetrics() {
  let text;
  try {
    const res = await fetch('/metrics', { headers: headers() });
    if (!res.ok) return null;
    text = await res.text();
  } catch {
    return null;
  }
  const now = { t: Date.now(), by: summarize(parseMetrics(text)) };
  scrapes.push(now);
  while (scrapes.length > 2 && now.t - scrapes[1].t > HISTORY_MS) scrapes.shift();
  // The rate over the last RATE_WINDOW_MS (or as much as there is).
  let base = scrapes[0];
  for (const s of scrapes) if (now.t - s.t >= RATE_WINDOW_MS) base = s;
  const windowed = scrapes.length > 1 ? rates(now, base) : new Map();
  // The chart: request rate per model between consecutive scrapes.
  if (scrapes.length > 1) {
    const prev = scrapes[scrapes.length - 2];
    const step = rates(now, prev);
    const perModel = new Map();
    for (const [k, r] of step) {
      const model = k.split('\u0000')[0];
      perModel.set(model, (perModel.get(model) ?? 0) + r.reqPerS);
    }
    for (const [model, v] of perModel) {
      const h = rateHistory.get(model) ?? [];
      h.push([now.t, v]);
      while (h.length && now.t - h[0][0] > HISTORY_MS) h.shift();
      rateHistory.set(model, h);
    }
  }
  return windowed;
}

// ---- models ------------------------------------------------------------------------------------

let rateChart;
const readyModels = [];

async function pollModels() {
  const [index, windowed] = await Promise.all([
    api('/v2/repository/index', { method: 'POST', body: {} }),
    scrapeMetrics(),
  ]);
  const tbody = $('models').tBodies[0];
  if (!index.ok) {
    tbody.replaceChildren();
    const tr = tbody.insertRow();
    const td = cell(tr, `the model list is not available: ${errorText(index)}`, 'muted');
    td.colSpan = 9;
    return;
  }
  const rows = index.body;
  tbody.replaceChildren();
  if (!rows.length) {
    const tr = tbody.insertRow();
    cell(tr, 'the repository has no models', 'muted').colSpan = 9;
  }
  const ready = new Set();
  for (const m of rows) {
    const tr = tbody.insertRow();
    tr.dataset.model = m.name;
    tr.dataset.version = m.version ?? '';
    tr.dataset.state = m.state ?? '';
    cell(tr, m.name);
    cell(tr, m.version ?? '–');
    const state = m.state ?? 'UNKNOWN';
    const td = cell(tr, '');
    td.appendChild(pill(state, state === 'READY' ? 'ok' : state === 'LOADING' ? 'warn' : 'bad'));
    const r = windowed?.get(`${m.name}\u0000${m.version}`);
    cell(tr, r ? fmt(r.reqPerS) : '–', 'num');
    cell(tr, r ? fmt(r.errPerS) : '–', 'num');
    cell(tr, r ? fmt(r.meanMs) : '–', 'num');
    cell(tr, r ? fmt(r.p95Ms) : '–', 'num');
    cell(tr, r ? String(r.inferences) : '–', 'num');
    cell(tr, m.reason ?? '', 'reason');
    if (state === 'READY') ready.add(m.name);
  }
  readyModels.splice(0, readyModels.length, ...[...ready].sort());
  if (fillSelect($('infer-model'), readyModels)) onInferModel();
  fillSelect($('train-model'), readyModels);
  const t0 = Date.now();
  rateChart.update(
    [...rateHistory.entries()].map(([model, pts]) => ({
      name: `${model} req/s`,
      points: pts.map(([t, v]) => [(t - t0) / 1000, v]),
    })),
  );
}

// ---- test inference ----------------------------------------------------------------------------

const V2_ZERO = { BOOL: false, BYTES: '' };

async function onInferModel() {
  const model = $('infer-model').value;
  if (!model) return;
  const r = await api(`/v2/models/${encodeURIComponent(model)}`);
  if (!r.ok) {
    $('infer-signature').textContent = errorText(r);
    return;
  }
  const meta = r.body;
  const dims = (shape) => shape.map((d) => (d < 0 ? 1 : d));
  $('infer-signature').textContent =
    `inputs: ${meta.inputs.map((i) => `${i.name} ${i.datatype}[${i.shape.join(', ')}]`).join(', ')} → ` +
    `outputs: ${meta.outputs.map((o) => `${o.name} ${o.datatype}[${o.shape.join(', ')}]`).join(', ')}`;
  const body = {
    inputs: meta.inputs.map((i) => {
      const shape = dims(i.shape);
      const n = shape.reduce((a, b) => a * b, 1);
      return { name: i.name, shape, datatype: i.datatype, data: new Array(n).fill(V2_ZERO[i.datatype] ?? 0) };
    }),
  };
  $('infer-body').value = JSON.stringify(body);
}

async function onInferSubmit(ev) {
  ev.preventDefault();
  const model = $('infer-model').value;
  let body;
  try {
    body = JSON.parse($('infer-body').value);
  } catch (e) {
    $('infer-result').textContent = `the request is not valid JSON: ${e.message}`;
    return;
  }
  $('infer-submit').disabled = true;
  const t0 = performance.now();
  const r = await api(`/v2/models/${encodeURIComponent(model)}/infer`, { method: 'POST', body });
  const ms = performance.now() - t0;
  $('infer-submit').disabled = false;
  $('infer-time').textContent = `${r.ok ? 'OK' : `HTTP ${r.status}`} in ${ms.toFixed(1)} ms`;
  $('infer-time').className = `small ${r.ok ? 'ok-text' : 'bad-text'}`;
  // Indented, with arrays of numbers kept on one line.
  const text = JSON.stringify(r.body, null, 2).replace(
    /\[\s+([-\d.eE+,\s]+?)\s+\]/g,
    (_, inner) => `[${inner.replace(/\s+/g, ' ')}]`,
  );
  $('infer-result').textContent = text.length > 20_000 ? `${text.slice(0, 20_000)}\n…` : text;
  // For a [1, classes] output, the five largest classes as bars.
  const top = $('infer-top');
  top.replaceChildren();
  const out = r.ok
    ? r.body.outputs?.find(
        (o) =>
          Array.isArray(o.data) &&
          o.data.length > 1 &&
          o.data.length <= 1000 &&
          typeof o.data[0] === 'number',
      )
    : undefined;
  if (out && (out.shape.length === 1 || (out.shape.length === 2 && out.shape[0] === 1))) {
    const ranked = out.data
      .map((v, i) => [i, v])
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5);
    const max = Math.max(...ranked.map(([, v]) => Math.abs(v)), 1e-12);
    const grid = document.createElement('div');
    grid.className = 'bars';
    for (const [i, v] of ranked) {
      const label = document.createElement('span');
      label.textContent = `${out.name}[${i}]`;
      const bar = document.createElement('div');
      bar.className = 'bar';
      bar.style.width = `${Math.max(1, (100 * Math.abs(v)) / max)}%`;
      const value = document.createElement('span');
      value.className = 'num';
      value.textContent = fmt(v, 4);
      grid.append(label, bar, value);
    }
    top.appendChild(grid);
  }
}

// ---- training jobs -----------------------------------------------------------------------------

let lossChart;
let metricChart;
let selectedJob = null;
let stream = null; // AbortController of the open event stream
const curve = { steps: [], epochs: [] }; // batch losses [step, loss]; epoch logs (with their step)

async function pollJobs() {
  const r = await api('/v2/training/jobs');
  const tbody = $('jobs').tBodies[0];
  tbody.replaceChildren();
  if (!r.ok) {
    const msg =
      r.status === 404 || r.status === 503
        ? `the training API is off or unavailable (${errorText(r)})`
        : errorText(r);
    cell(tbody.insertRow(), msg, 'muted').colSpan = 9;
    return;
  }
  const jobs = r.body.jobs ?? [];
  if (!jobs.length) cell(tbody.insertRow(), 'no jobs yet: start one with the form', 'muted').colSpan = 9;
  for (const j of jobs) {
    const tr = tbody.insertRow();
    tr.className = `selectable${j.id === selectedJob ? ' selected' : ''}`;
    tr.dataset.job = j.id;
    tr.dataset.state = j.state;
    tr.addEventListener('click', () => selectJob(j.id));
    cell(tr, j.id.slice(0, 8));
    cell(tr, `${j.model} v${j.base_version}`);
    const td = cell(tr, '');
    td.appendChild(
      pill(
        j.state,
        j.state === 'completed' ? 'ok' : j.state === 'failed' || j.state === 'cancelled' ? 'bad' : 'warn',
      ),
    );
    cell(tr, `${j.epoch ?? 0}/${j.epochs ?? '?'}`, 'num');
    cell(tr, `${j.step ?? 0}/${j.total_steps ?? '?'}`, 'num');
    cell(tr, fmt(j.loss, 4), 'num');
    cell(tr, j.samples_per_second ? fmt(j.samples_per_second) : '–', 'num');
    cell(tr, fmtSeconds(j.eta_seconds), 'num');
    const actions = cell(tr, '');
    if (!TERMINAL.has(j.state)) {
      const b = document.createElement('button');
      b.className = 'secondary';
      b.textContent = 'cancel';
      b.addEventListener('click', async (e) => {
        e.stopPropagation();
        b.disabled = true;
        const c = await api(`/v2/training/jobs/${encodeURIComponent(j.id)}`, { method: 'DELETE' });
        if (!c.ok) showBanner(`cancel: ${errorText(c)}`);
        pollJobs();
      });
      actions.appendChild(b);
    }
  }
}

function drawJob() {
  lossChart.update([
    { name: 'batch loss', points: curve.steps },
    {
      name: 'epoch loss',
      points: curve.epochs.filter((e) => e.loss !== undefined).map((e) => [e.step ?? e.epoch, e.loss]),
    },
    {
      name: 'val loss',
      points: curve.epochs
        .filter((e) => e.val_loss !== undefined)
        .map((e) => [e.step ?? e.epoch, e.val_loss]),
      dashed: true,
    },
  ]);
  const names = new Set();
  for (const e of curve.epochs) {
    for (const k of Object.keys(e.metrics ?? {})) names.add(k);
    for (const k of Object.keys(e.val_metrics ?? {})) names.add(`val_${k}`);
  }
  metricChart.update(
    [...names].map((n) => ({
      name: n,
      dashed: n.startsWith('val_'),
      points: curve.epochs
        .map((e) => [e.epoch, n.startsWith('val_') ? e.val_metrics?.[n.slice(4)] : e.metrics?.[n]])
        .filter(([, v]) => v !== undefined),
    })),
  );
}

function showJobStatus(j) {
  const parts = [`state ${j.state}`];
  if (j.epoch !== undefined) parts.push(`epoch ${j.epoch}/${j.epochs ?? '?'}`);
  if (j.step !== undefined) parts.push(`step ${j.step}/${j.total_steps ?? '?'}`);
  if (j.loss !== undefined) parts.push(`loss ${fmt(j.loss, 4)}`);
  if (j.result?.version !== undefined)
    parts.push(`wrote version ${j.result.version}${j.result.served ? ' (serving)' : ''}`);
  if (j.error) parts.push(`error: ${j.error}`);
  $('job-status').textContent = parts.join(' · ');
}

function loadDetail(d) {
  curve.steps = (d.loss_history ?? []).map(([s, l]) => [s, l]);
  curve.epochs = [...(d.history ?? [])];
  showJobStatus(d);
  drawJob();
}

/** Reads a text/event-stream response: calls onEvent(name, data) for each event. */
async function readEvents(res, onEvent) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let i = buf.indexOf('\n\n');
    while (i >= 0) {
      const chunk = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let event = 'message';
      const data = [];
      for (const line of chunk.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length) {
        try {
          onEvent(event, JSON.parse(data.join('\n')));
        } catch {
          // A malformed event is skipped; the next poll of the job corrects the view.
        }
      }
      i = buf.indexOf('\n\n');
    }
  }
}

async function selectJob(id) {
  if (selectedJob === id) return;
  selectedJob = id;
  stream?.abort();
  $('job-view').hidden = false;
  $('job-title').textContent = `Job ${id}`;
  for (const tr of $('jobs').tBodies[0].rows) tr.classList.toggle('selected', tr.dataset.job === id);
  const d = await api(`/v2/training/jobs/${encodeURIComponent(id)}`);
  if (d.ok) loadDetail(d.body);
  // Event stream (fetch, not EventSource, so the bearer token can go along).
  const ctrl = new AbortController();
  stream = ctrl;
  try {
    const res = await fetch(`/v2/training/jobs/${encodeURIComponent(id)}/events`, {
      headers: headers({ Accept: 'text/event-stream' }),
      signal: ctrl.signal,
    });
    if (!res.ok) return;
    await readEvents(res, (event, data) => {
      if (selectedJob !== id) return;
      if (event === 'job') loadDetail(data);
      else if (event === 'step') {
        curve.steps.push([data.step, data.loss]);
        showJobStatus({ state: 'running', ...data });
        drawJob();
      } else if (event === 'epoch') {
        curve.epochs.push(data);
        drawJob();
      } else if (event === 'state') showJobStatus(data);
    });
  } catch {
    // Aborted (another job selected) or the connection dropped.
  }
  if (selectedJob === id && !ctrl.signal.aborted) {
    const fin = await api(`/v2/training/jobs/${encodeURIComponent(id)}`);
    if (fin.ok) loadDetail(fin.body);
  }
}

async function onTrainSubmit(ev) {
  ev.preventDefault();
  const out = $('train-result');
  const model = $('train-model').value;
  if (!model) {
    out.textContent = 'no model is ready to train';
    return;
  }
  const target = $('train-target').value.trim();
  const dataset = $('train-dataset').value.trim();
  const body = {
    dataset: target ? { path: dataset, target } : dataset,
    optimizer: { name: $('train-optimizer').value, lr: Number($('train-lr').value) },
    epochs: Number($('train-epochs').value),
    batch_size: Number($('train-batch').value),
  };
  if ($('train-loss').value) body.loss = $('train-loss').value;
  if ($('train-output').value.trim()) body.output = $('train-output').value.trim();
  const split = Number($('train-val').value);
  if (split > 0) body.validation_split = split;
  if ($('train-accuracy').checked) body.metrics = ['accuracy'];
  const extra = $('train-extra').value.trim();
  if (extra) {
    try {
      Object.assign(body, JSON.parse(extra));
    } catch (e) {
      out.textContent = `the extra fields are not valid JSON: ${e.message}`;
      out.className = 'small bad-text';
      return;
    }
  }
  $('train-submit').disabled = true;
  const r = await api(`/v2/models/${encodeURIComponent(model)}/train`, { method: 'POST', body });
  $('train-submit').disabled = false;
  if (!r.ok) {
    out.textContent = errorText(r);
    out.className = 'small bad-text';
    return;
  }
  out.textContent = `job ${r.body.id} started (${r.body.state})`;
  out.className = 'small ok-text';
  await pollJobs();
  selectJob(r.body.id);
}

// ---- start ---------------------------------------------------------------------------------------

function loop(fn) {
  const run = async () => {
    try {
      await fn();
    } catch (e) {
      console.warn(e);
    }
    setTimeout(run, POLL_MS);
  };
  run();
}

function start() {
  rateChart = new LineChart($('rate-chart'), {
    xLabel: 'seconds',
    height: 160,
    yMin: 0,
    empty: 'no requests yet',
  });
  lossChart = new LineChart($('loss-chart'), {
    xLabel: 'step',
    height: 220,
    empty: 'waiting for the first steps',
  });
  metricChart = new LineChart($('metric-chart'), {
    xLabel: 'epoch',
    height: 160,
    integerX: true,
    empty: 'metrics appear after each epoch',
  });
  $('token').value = token;
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    token = $('token').value.trim();
    if (token) sessionStorage.setItem('tessera-token', token);
    else sessionStorage.removeItem('tessera-token');
    showBanner('');
    pollModels();
    pollJobs();
  });
  $('infer-model').addEventListener('change', onInferModel);
  $('infer-form').addEventListener('submit', onInferSubmit);
  $('train-form').addEventListener('submit', onTrainSubmit);
  loop(pollServer);
  loop(pollModels);
  loop(pollJobs);
}

start();

// worker.js: the Treasury page's compute worker (a module worker). It loads
// the WASM module (floatcast.mjs) and answers the page's requests off the
// main thread:
//   {seq, kind: 'project', data, options, baseline}  -> {seq, ok, json, baseline_json, ms}
//     options is ProjectOptions; with baseline true it also projects the same
//     options without the scenario (same method), so a card's figures and its
//     delta come from one pair of answers. data may be left out: the worker
//     keeps the last data it was sent (kept on arrival, so a request collapsed
//     away still hands its data to the next), and a signed-in tenant's
//     snapshot crosses to the worker once, not on every slider move.
//   {seq, kind: 'demo', options}                      -> {seq, ok, demo}
//   {seq, kind: 'compare', data, options_a, options_b} -> {seq, ok, json_a, json_b}
//     two saved scenarios projected with the same settings, side by side.
// An error answers {seq, ok: false, error: {code, message, rows}}. Requests
// queued while one computes are collapsed to the newest (the page drops any
// answer older than its latest request anyway, by seq).
import init from './floatcast.mjs';

let fc = null;
let pending = null;
let kept = null; // the last data sent
let scheduled = false;

async function load() {
  // Fetch the bytes ourselves: the glue's own locating assumes a window.
  const res = await fetch(new URL('./floatcast_core.wasm', import.meta.url));
  if (!res.ok) throw new Error(`floatcast_core.wasm: HTTP ${res.status}`);
  fc = await init({ wasmBinary: new Uint8Array(await res.arrayBuffer()) });
  self.postMessage({ kind: 'ready', version: fc.version() });
}

function errorOf(e) {
  return { code: e && e.code ? e.code : 'EINVAL', message: String(e && e.message ? e.message : e),
    rows: e && Array.isArray(e.rows) ? e.rows : [] };
}

function run(req) {
  const t0 = performance.now();
  if (req.kind === 'demo') return { demo: fc.demo(req.options || {}) };
  if (req.kind === 'project') {
    const data = req.data || kept;
    if (!data) throw new Error('no data to project');
    const json = fc.projectJSON(data, req.options);
    let baselineJson = null;
    if (req.baseline) {
      const { scenario, ...plain } = req.options;
      baselineJson = fc.projectJSON(data, plain);
    }
    return { json, baseline_json: baselineJson, ms: performance.now() - t0 };
  }
  if (req.kind === 'compare') {
    const data = req.data || kept;
    if (!data) throw new Error('no data to project');
    return { json_a: fc.projectJSON(data, req.options_a), json_b: fc.projectJSON(data, req.options_b) };
  }
  throw new Error(`unknown request ${req.kind}`);
}

function answer(req) {
  try {
    self.postMessage({ seq: req.seq, kind: req.kind, ok: true, ...run(req) });
  } catch (e) {
    self.postMessage({ seq: req.seq, kind: req.kind, ok: false, error: errorOf(e) });
  }
}

function drain() {
  scheduled = false;
  const req = pending;
  pending = null;
  if (req) answer(req);
}

const ready = load().catch((e) => self.postMessage({ kind: 'failed', error: errorOf(e) }));

self.onmessage = (ev) => {
  const req = ev.data;
  if (req.data) kept = req.data;
  // Demo data and comparisons are answered in turn; projections collapse to the newest.
  if (req.kind === 'demo' || req.kind === 'compare') {
    ready.then(() => answer(req));
    return;
  }
  pending = req;
  if (!scheduled) {
    scheduled = true;
    ready.then(() => setTimeout(drain, 0));
  }
};

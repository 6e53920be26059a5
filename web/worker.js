// worker.js: the Treasury page's compute worker (a module worker). It loads
// the WASM module (floatcast.mjs) and answers the page's requests off the
// main thread:
//   {seq, kind: 'project', data, options, baseline, key}
//       -> {seq, ok, key, basis, data_seq, head?, order, changed, baseline?, ms, delta_ms, at}
//     options is ProjectOptions; with baseline true it also projects the same
//     options without the scenario (same method), so a card's figures and its
//     delta come from one pair of answers. The answer is a delta against the
//     worker's previous answer (projectDelta below): the page absorbs every
//     answer in order, drawn or superseded, so it always holds what the worker
//     last sent, and redraws only the currencies that changed. ms, delta_ms
//     and at (start and end, ms since the epoch) time the stages for the
//     page's timings. data may be left out: the worker
//     keeps the last data it was sent (kept on arrival, so a request collapsed
//     away still hands its data to the next), and a signed-in tenant's
//     snapshot crosses to the worker once, not on every slider move.
//     basis counts the page's 'shown' notes taken before the answer (below):
//     an answer from before the page's last note is against what the page
//     no longer holds, and the page drops it. data_seq counts the messages
//     that carried data or asked for the snapshot: the page counts the same,
//     and keeps answers and offers only for the data it has.
//   {kind: 'offer', data_seq, key, json, base}   (from the worker, unasked)
//     a projection made ahead (see "ahead" below): its text, keyed as
//     the page keys its requests, with its baseline's headlines or null. The
//     page keeps them and answers a what-if it finds there itself, on the
//     main thread, with no message to wait for either way.
//   {kind: 'shown', basis, key, options, baseline}   (from the page)
//     the page drew its own kept answer for these options: the worker now
//     holds that as what the page shows (its next delta is against it),
//     drops a projection still queued (superseded) and looks ahead from it.
//   A rule answer or offer may also carry {kit, kit_key}: the rule kit of its
//     data, time and scenario (kitFor below), sent once per key and data.
//   {seq, kind: 'demo', options}                      -> {seq, ok, demo}
//   {seq, kind: 'snapshot'}                            -> {seq, ok, summary, data}
//     the signed-in tenant's snapshot fetched (session cookie) and turned into
//     CSV texts here, off the main thread; the worker keeps them as its data.
//     The page gets the accounts as text (its what-if form lists them) and
//     the transfers and streams as UTF-8 bytes in transferred ArrayBuffers:
//     it only passes them on (to the ML worker), and 0.3 MB of strings
//     cloned into the main thread's heap cost it a 30 ms garbage collection
//     in the sign-in task. Any data field may be such bytes (decoded here).
//   {seq, kind: 'compare', data, options_a, options_b} -> {seq, ok, json_a, json_b}
//     two saved scenarios projected with the same settings, side by side.
//   {seq, kind: 'warm', data, options, baseline}       -> {seq, kind: 'warm', ok, ms}
//     a projection computed for what it leaves behind (the ML flow model
//     fitted, its paths simulated) and not answered; a projection arriving
//     before it started takes its place ({kind: 'warm', superseded: true}).
// An error answers {seq, ok: false, error: {code, message, rows}}. Requests
// queued while one computes are collapsed to the newest (the page drops any
// answer older than its latest request anyway, by seq).
import init from './floatcast.mjs';
import { kitKey } from './ruleshift.js';
import { loadSnapshotData } from './session.js';

let fc = null;
let pending = null;
let kept = null; // the last data sent: {data, checked, rule}
let lastBaseline = null; // {data, key, json}: the last baseline projected
let dataSeq = 0; // messages that carried data or asked for the snapshot (the page counts them too)
let basis = 0; // the page's 'shown' notes taken
let loading = false; // a snapshot on its way: nothing is projected ahead on the data it replaces

// The rule reads only pending transfers (balance − scheduled − stream drain,
// docs/spec/projection.md): the settled history is for the ML flow model.
// Reading thousands of history rows is most of a rule projection's time, so
// once a projection has read the whole data without error (every row checked),
// rule projections get a copy without the history. CSV only, and only when no
// field is quoted across lines; otherwise null (the whole data is used).
function csvFields(line) {
  const out = [];
  let cur = '', q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (q) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') q = false; else cur += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out;
}

function pendingOnly(data) {
  const t = data.transfers;
  if (typeof t !== 'string' || /^\s*[[{]/.test(t)) return null;
  const lines = t.split(/\r?\n/);
  if (lines.some((l) => (l.match(/"/g) || []).length % 2 !== 0)) return null;
  const col = csvFields(lines[0]).map((h) => h.trim().toLowerCase()).indexOf('status');
  if (col < 0) return null;
  const keep = lines.slice(1).filter((l) => l.trim() && (csvFields(l)[col] || '').trim().toLowerCase() === 'pending');
  return { ...data, transfers: `${[lines[0], ...keep].join('\n')}\n` };
}

function dataFor(options) {
  if (!kept) throw new Error('no data to project');
  const rule = !options.method || options.method === 'rule';
  return rule && kept.checked && kept.rule ? kept.rule : kept.data;
}

// A projection read the whole data without error: rule projections may now use the short copy.
function checked(data) {
  if (kept.checked || data !== kept.data) return;
  kept.checked = true;
  kept.rule = pendingOnly(kept.data);
}
let scheduled = false;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
// The page's data with any ArrayBuffer field (a snapshot's bytes) as text.
const texts = (data) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v instanceof ArrayBuffer ? decoder.decode(v) : v]));
let warming = null; // a warm-up not started yet (pending goes first)

async function load() {
  // Fetch the bytes ourselves: the glue's own locating assumes a window.
  const res = await fetch(new URL('./floatcast_core.wasm', import.meta.url));
  if (!res.ok) throw new Error(`floatcast_core.wasm: HTTP ${res.status}`);
  fc = await init({ wasmBinary: new Uint8Array(await res.arrayBuffer()) });
  self.postMessage({ kind: 'ready', version: fc.version() });
}

// A gateway error (session.js) carries its HTTP status and a finished sentence (no code).
function errorOf(e) {
  const status = e && typeof e.status === 'number' ? e.status : undefined;
  return { code: e && e.code ? e.code : status !== undefined ? '' : 'EINVAL', message: String(e && e.message ? e.message : e),
    rows: e && Array.isArray(e.rows) ? e.rows : [], status };
}

async function run(req) {
  const t0 = performance.now();
  if (req.kind === 'snapshot') {
    loading = true;
    let s;
    try {
      s = await loadSnapshotData();
    } finally {
      loading = false;
    }
    keep(s.data);
    const transfers = encoder.encode(s.data.transfers).buffer, streams = encoder.encode(s.data.streams).buffer;
    return { summary: s.summary, data: { accounts: s.data.accounts, transfers, streams }, transfer: [transfers, streams] };
  }
  if (req.kind === 'demo') return { demo: fc.demo(req.options || {}) };
  if (req.kind === 'project' || req.kind === 'warm') {
    const data = dataFor(req.options);
    const json = projectText(data, req.options);
    checked(data);
    let baseline = null;
    if (req.baseline) {
      // Editing a scenario leaves its baseline as it was: the same data and
      // options project to the same bytes (fixed seed), so the last one is reused.
      const { scenario, ...plain } = req.options;
      const key = JSON.stringify(plain);
      if (!lastBaseline || lastBaseline.data !== data || lastBaseline.key !== key) {
        lastBaseline = { data, key, json: projectText(data, plain) };
      }
      baseline = lastBaseline;
    }
    if (req.kind === 'warm') return { ms: performance.now() - t0 };
    give(req.key, json, baseline ? baselineHeads(baseline) : null);
    const kit = kitFor(data, req.options);
    lookAhead(dataFor(req.options), req.options, !!req.baseline);
    // at: when the work started and ended, in ms since the epoch (the page's clock has another origin).
    // ms: the module's projections; delta_ms: reading the answer and finding what changed.
    const t1 = performance.now();
    const delta = projectDelta(json, baseline);
    const t2 = performance.now();
    return { ...delta, ...kit, ms: t1 - t0, delta_ms: t2 - t1, at: [performance.timeOrigin + t0, performance.timeOrigin + t2] };
  }
  if (req.kind === 'compare') {
    const data = dataFor(req.options_a);
    return { json_a: fc.projectJSON(data, req.options_a), json_b: fc.projectJSON(data, req.options_b) };
  }
  throw new Error(`unknown request ${req.kind}`);
}

// ---- projections ahead of the slider ------------------------------------------
// A rule projection costs the module 2-5 ms, most of a horizon what-if's
// time here. Once the worker has answered a horizon change and has nothing
// queued, it projects the horizons a slider move asks next, with the
// scenario's baseline when there is one, a projection per task so that a
// real request waits for at most one, and offers each to the page
// ({kind: 'offer'}), which answers a request for one of them itself: on a
// loaded machine the two messages of a round trip each waited for a core
// (5-19 ms together) where a frame has 16. Next: the next hour in the
// direction of the move, the one the other way (after a jump, typed or
// clicked on the slider's track, the next move goes either way: with the
// next two one way only, the first step back after a jump missed and, with
// a scenario, projected two), then the second in the direction (the one the
// other way is usually the horizon just left: the page has it already). Only
// after a horizon change: after every what-if (floors, payments) the work
// ahead made the next what-if wait for it on a loaded machine (floors median
// 3 -> 6 ms in the worker, p90 36 ms waiting to start) and served nothing.
// Until the first horizon change (after each answer, once nothing is
// queued: sign-in's answers, or what-ifs before any move) it projects the
// SWEEP hours either side of the horizon on screen, nearest first: the
// first move from the default is as often a jump (typed, or a click on the
// slider's track) as a step, and it was the slowest what-if of a series
// (page_trace: the worker projected it while the main thread waited). Any
// request empties the queue, so this costs a user who acts at once nothing
// but the one projection already started. After a data load it waits for
// the page's word that the cards are drawn and it is idle ('ahead'):
// started at the first answer, the sweep took the second core while the
// page laid out its cards, and that layout became a long task (65-75 ms of
// wall for 11-13 of CPU) in every signed-in page_trace run. New data (a
// refresh, files, the demo) starts all of this afresh: no texts, no move.
// Same data, same options, same bytes (the module is deterministic): the
// answer is the one computing it now would give. The ML worker looks one
// hour ahead of a move and no more (lookAhead). Kept per data, the last KEEP
// texts (of either method: a warm-up's ML text answers the switch to ML).
const SWEEP = 12, KEEP = 2 * SWEEP + 8;
const ahead = { data: null, texts: new Map(), queue: [], sweep: [], idle: false, lastHorizon: null, moved: false, timer: 0 };
const isRule = (options) => !options.method || options.method === 'rule';

// What the page was given (answers and offers), by the page's key: {json,
// base}, the last GIVEN of them, as the page keeps them (app.js, KEPT). A
// 'shown' note for one of them tells the worker what the page now holds.
const GIVEN = 48;
const given = new Map();
function give(key, json, base) {
  if (key === undefined) return;
  given.delete(key);
  given.set(key, { json, base });
  if (given.size > GIVEN) given.delete(given.keys().next().value);
}

// The rule kit (projection.h) of a rule projection's data, time and
// scenario, sent once per kit key and data with the answer or offer that
// first needs it ({kit, kit_key}; else nothing): with it the page works out a
// floor change, or a payment added or removed, of the rule answer on screen
// itself (ruleshift.js), in the input's own task. The kit does not depend on
// the floors or the horizon, so a floor series or a horizon sweep needs one.
const kitsSent = new Set();
function kitFor(data, options) {
  if (!isRule(options)) return {};
  const key = kitKey(options);
  if (kitsSent.has(key)) return {};
  let kit;
  try {
    kit = fc.ruleKit(data, options);
  } catch {
    return {}; // no kit: the page asks this worker, as without one
  }
  kitsSent.add(key);
  return { kit, kit_key: key };
}

// The page's data: its look-ahead starts afresh (a refresh used to keep the
// horizon last asked and whether it had moved, so the sweep never came back).
function keep(data) {
  kept = { data, checked: false, rule: null };
  ahead.data = null;
  ahead.texts.clear();
  ahead.queue = [];
  ahead.sweep = [];
  ahead.idle = false;
  ahead.lastHorizon = null;
  ahead.moved = false;
  clearTimeout(ahead.timer);
  given.clear();
  kitsSent.clear();
}

const pageKey = (options, baseline) => `${JSON.stringify(options)}${baseline ? '|baseline' : ''}`;
const withoutScenario = (options) => {
  const { scenario, ...plain } = options;
  return plain;
};

function projectText(data, options) {
  if (ahead.data !== data) {
    ahead.data = data;
    ahead.texts.clear();
  }
  const key = JSON.stringify(options);
  let json = ahead.texts.get(key);
  if (json === undefined) json = fc.projectJSON(data, options);
  ahead.texts.delete(key);
  ahead.texts.set(key, json); // the newest last
  if (ahead.texts.size > KEEP) ahead.texts.delete(ahead.texts.keys().next().value);
  return json;
}

function lookAhead(data, options, baseline) {
  ahead.queue = [];
  // The first answer read the whole data; later ones project its short copy
  // (dataFor): texts kept for the one are no answer for the other.
  if (data !== ahead.data) {
    ahead.data = data;
    ahead.texts.clear();
  }
  const h = options.horizon_hours, last = ahead.lastHorizon;
  ahead.lastHorizon = h;
  if (last !== null && h !== last) ahead.moved = true;
  if (ahead.moved && h === last) return;
  const dir = last === null || h > last ? 1 : -1;
  // ML (the ML worker's): the next hour in the direction of a move only, no
  // sweep: a projection there is 20-45 ms, and each evicts the simulated
  // paths of the horizon on screen.
  const rule = isRule(options);
  if (!rule && !ahead.moved) return;
  const around = [];
  if (!ahead.moved) for (let d = 1; d <= SWEEP; d++) around.push(h - d, h + d);
  for (const next of !rule ? [h + dir] : ahead.moved ? [h + dir, h - dir, h + 2 * dir] : around) {
    if (next >= 1 && next <= 720) ahead.queue.push({ options: { ...options, horizon_hours: next }, baseline });
  }
  ahead.sweep = [];
  if (!ahead.moved && !ahead.idle) {
    ahead.sweep = ahead.queue; // until the page says it is idle
    ahead.queue = [];
    return;
  }
  clearTimeout(ahead.timer);
  ahead.timer = setTimeout(projectAhead, 0);
}

// The page is idle after drawing its first answer: the sweep may start.
function pageIdle() {
  ahead.idle = true;
  if (ahead.moved || !ahead.sweep.length) return;
  ahead.queue = ahead.sweep;
  ahead.sweep = [];
  clearTimeout(ahead.timer);
  ahead.timer = setTimeout(projectAhead, 0);
}

// One projection ahead (with its baseline), offered to the page unless it has it.
function projectAhead() {
  if (pending || warming || loading || !ahead.queue.length || !kept || ahead.data !== dataFor(ahead.queue[0].options)) return;
  const { options, baseline } = ahead.queue.shift();
  const key = pageKey(options, baseline);
  if (!given.has(key)) {
    let json, base = null;
    try {
      json = projectText(ahead.data, options);
      if (baseline) base = baselineHeads({ json: projectText(ahead.data, withoutScenario(options)) });
    } catch {
      ahead.queue = []; // these options are refused: so would their neighbours be
      return;
    }
    give(key, json, base);
    self.postMessage({ kind: 'offer', data_seq: dataSeq, key, json, base, ...kitFor(ahead.data, options) });
  }
  ahead.timer = setTimeout(projectAhead, 0);
}

// The page drew its own kept answer for these options: that is what it holds now.
function pageShown(req) {
  basis = req.basis;
  pending = null; // superseded by what the page drew
  const g = given.get(req.key);
  // Not given (or forgotten): nothing is assumed held, so the next answer is whole.
  shown = g ? heldOf(g.json, g.base) : { cur: new Map(), head: '', base: '' };
  if (g && kept) lookAhead(dataFor(req.options), req.options, req.baseline);
}

// What the page holds from the last projection answer: each currency's JSON
// text, the other top-level fields' text, and the baseline's headlines.
let shown = { cur: new Map(), head: '', base: 'null' };
const decimals = (text) => (String(text).split('.')[1] || '').length;

// A projection's text and its baseline's headlines as what the page holds.
function heldOf(json, base) {
  const { currencies, ...rest } = JSON.parse(json);
  return { cur: new Map(currencies.map((c) => [c.currency, JSON.stringify(c)])), head: JSON.stringify(rest),
    base: base ? JSON.stringify(base) : 'null' };
}

// A currency's headline at the horizon, as the page shows it: the rule's exact
// balance, or a banded method's p50 at the currency's decimals.
function headlineOf(method, cur) {
  if (method === 'rule') return cur.rule.projected_balance;
  return Number(cur.path[cur.path.length - 1].p50).toFixed(decimals(cur.current_balance));
}

// A baseline ({json}) as the page needs it: {method, heads: {code: headline}},
// read once per baseline (kept on it, with its text).
function baselineHeads(baseline) {
  if (!baseline.heads) {
    const b = JSON.parse(baseline.json);
    baseline.heads = { method: b.method, heads: Object.fromEntries(b.currencies.map((c) => [c.currency, headlineOf(b.method, c)])) };
    baseline.text = JSON.stringify(baseline.heads);
  }
  return baseline.heads;
}

// The projection (and its baseline) as a delta against what the page holds:
// {head: top-level fields but currencies (when changed), order: currency
// codes, changed: {code: currency object} for those whose JSON differs,
// baseline: {method, heads: {code: headline}} or null (when changed)}; the
// baseline is read once per baseline projected (lastBaseline). A rule
// what-if that moves one currency posts that one currency (a few kB), and the
// page parses and draws nothing else; a structured clone of objects costs the
// page about what JSON.parse of their text would, so only less text helps.
function projectDelta(json, baseline) {
  const p = JSON.parse(json);
  const { currencies, ...rest } = p;
  const out = { order: currencies.map((c) => c.currency), changed: {} };
  const head = JSON.stringify(rest);
  if (head !== shown.head) out.head = rest;
  const cur = new Map();
  for (const c of currencies) {
    const text = JSON.stringify(c);
    cur.set(c.currency, text);
    if (shown.cur.get(c.currency) !== text) out.changed[c.currency] = c;
  }
  if (baseline) baselineHeads(baseline);
  const base = baseline ? baseline.heads : null;
  const baseText = baseline ? baseline.text : 'null';
  if (baseText !== shown.base) out.baseline = base;
  shown = { cur, head, base: baseText };
  return out;
}

async function answer(req) {
  try {
    const { transfer = [], ...out } = await run(req);
    self.postMessage({ seq: req.seq, kind: req.kind, ok: true, key: req.key, basis, data_seq: dataSeq, ...out }, transfer);
  } catch (e) {
    self.postMessage({ seq: req.seq, kind: req.kind, ok: false, key: req.key, basis, data_seq: dataSeq, error: errorOf(e) });
  }
}

function drain() {
  scheduled = false;
  const req = pending || warming;
  if (pending) pending = null;
  else warming = null;
  if (req) answer(req);
  if (pending || warming) schedule();
}

function schedule() {
  if (!scheduled) {
    scheduled = true;
    ready.then(() => setTimeout(drain, 0));
  }
}

const ready = load().catch((e) => self.postMessage({ kind: 'failed', error: errorOf(e) }));

self.onmessage = (ev) => {
  const req = ev.data;
  if (req.kind === 'ahead') return pageIdle();
  if (req.kind === 'shown') return pageShown(req);
  // Counted as the page counts them (app.js, post).
  if (req.data || req.kind === 'snapshot') {
    dataSeq++;
    given.clear(); // the page forgot what it was given for the data before
  }
  if (req.data) keep(texts(req.data));
  // Demo data, snapshots and comparisons are answered in turn; projections collapse to the newest.
  if (req.kind === 'demo' || req.kind === 'compare' || req.kind === 'snapshot') {
    ready.then(() => answer(req));
    return;
  }
  if (req.kind === 'warm') {
    warming = req;
  } else {
    pending = req;
    // The projection does what the warm-up would have: it fits the model.
    if (warming) self.postMessage({ seq: warming.seq, kind: 'warm', superseded: true });
    warming = null;
  }
  schedule();
};

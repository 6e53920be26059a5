// floatcast.mjs: the JavaScript face of the floatcast WASM module.
//
//   import init from './floatcast.mjs';
//   const fc = await init();
//   const p = fc.project({ accounts, transfers, streams }, { now: '2025-12-01T12:00:00Z' });
//
// init() instantiates one module and returns a frozen object of functions;
// later features are added to that object, so callers never change how they
// load it. Every function takes plain JS values and returns plain objects
// parsed from the core's JSON; on failure it throws a FloatcastError whose
// message is the core's own message ("transfers: line 7: amount: ...").
//
// Memory: each call copies its text arguments into WASM memory, and frees
// them and the answer before returning, whether it succeeds or throws, so a
// call leaves the heap as it found it (tests/wasm/api_test.mjs checks 10,000).
//
// Works in browsers (the glue fetches floatcast_core.wasm next to this file)
// and in node, where the .wasm is read from disk and handed over as
// wasmBinary (the Emscripten 3.1.6 glue cannot fetch a file: URL in node).
import createFloatcastCore from './floatcast_core.mjs';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const FORMAT_CSV = 0;
const FORMAT_JSON = 1;

/** An error reported by the core: code is its fc_status name ("EPARSE"),
 * rows the bad rows of a rejected batch ({row, message}). */
export class FloatcastError extends Error {
  constructor(message, code = 'EINVAL', rows = []) {
    super(message);
    this.name = 'FloatcastError';
    this.code = code;
    this.rows = rows;
  }
}

function isNode() {
  return typeof process === 'object' && process !== null && typeof process.versions === 'object'
      && typeof process.versions.node === 'string' && typeof window === 'undefined';
}

async function nodeWasmBinary() {
  const { readFile } = await import('node:fs/promises');
  return readFile(new URL('./floatcast_core.wasm', import.meta.url));
}

// Records arrive as CSV text, JSON text (an array or NDJSON) or an array of
// objects. A CSV header starts with a column name, so text that starts with
// '[' or '{' is JSON. null/undefined means "not given".
function recordsInput(value, kind) {
  if (value === undefined || value === null) return { text: null, format: FORMAT_CSV };
  if (Array.isArray(value)) return { text: JSON.stringify(value), format: FORMAT_JSON };
  if (typeof value === 'string') {
    const first = value.trimStart()[0];
    return { text: value, format: first === '[' || first === '{' ? FORMAT_JSON : FORMAT_CSV };
  }
  throw new TypeError(`${kind}: expected CSV/JSON text or an array of objects, got ${typeof value}`);
}

// Options go to the core as one JSON object; a Date becomes ISO text.
function optionsText(opts, what) {
  if (opts === undefined || opts === null) return '';
  if (typeof opts !== 'object' || Array.isArray(opts))
    throw new TypeError(`${what}: options must be an object`);
  return JSON.stringify(opts, (key, v) => (key !== '' && v instanceof Date ? v.toISOString() : v));
}

// Series for forecast/backtest: CSV text (long form, or M4 wide form with
// options.format 'm4') goes through unchanged; an array of numbers is one
// series "y"; an object {id: numbers} is one series per key. Arrays become
// step-indexed long form; null marks a missing value, which the core fills
// by interpolation when it lies inside the series (reported as "filled").
function seriesText(value, what) {
  if (typeof value === 'string') return value;
  const sets = Array.isArray(value) ? { y: value } : value;
  if (sets === null || typeof sets !== 'object' || Array.isArray(sets))
    throw new TypeError(`${what}: expected CSV text, an array of numbers or {id: numbers}`);
  const rows = ['series_id,timestamp,value'];
  for (const [id, values] of Object.entries(sets)) {
    if (!Array.isArray(values)) throw new TypeError(`${what}: series ${id}: expected an array of numbers`);
    const field = /[",\r\n]/.test(id) ? `"${id.replace(/"/g, '""')}"` : id;
    values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      if (typeof v !== 'number') throw new TypeError(`${what}: series ${id}: value ${i} is not a number`);
      rows.push(`${field},${i},${v}`); // String(number) reads back to the same double
    });
  }
  return `${rows.join('\n')}\n`;
}

// A numeric table for gbdt: CSV text with a header, or an array of row
// objects (columns in first-seen key order; null, undefined and NaN are
// missing values).
function tableText(value, what) {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) throw new TypeError(`${what}: expected CSV text or an array of row objects`);
  const cols = [];
  const seen = new Set();
  for (const row of value) {
    if (row === null || typeof row !== 'object') throw new TypeError(`${what}: rows must be objects`);
    for (const k of Object.keys(row)) if (!seen.has(k)) seen.add(k), cols.push(k);
  }
  const cell = (v) => (v === null || v === undefined || Number.isNaN(v) ? '' : String(v));
  const quote = (k) => (/[",\r\n]/.test(k) ? `"${k.replace(/"/g, '""')}"` : k);
  return `${[cols.map(quote).join(','), ...value.map((r) => cols.map((k) => cell(r[k])).join(','))].join('\n')}\n`;
}

function modelBytes(model, what = 'gbdtPredict: model') {
  if (model instanceof Uint8Array) return model;
  if (model instanceof ArrayBuffer) return new Uint8Array(model);
  if (ArrayBuffer.isView(model)) return new Uint8Array(model.buffer, model.byteOffset, model.byteLength);
  throw new TypeError(`${what} must be saved model bytes (Uint8Array or ArrayBuffer)`);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function base64Bytes(text) {
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const ch of clean) {
    acc = (acc << 6) | B64.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

function timeText(ts) {
  if (ts instanceof Date) return ts.toISOString();
  if (typeof ts === 'number') {
    if (!Number.isInteger(ts)) throw new TypeError(`time: expected whole epoch seconds, got ${ts}`);
    return String(ts);
  }
  if (typeof ts === 'string') return ts;
  throw new TypeError(`time: expected an ISO 8601 string, epoch seconds or a Date, got ${typeof ts}`);
}

/**
 * Loads the module. options.wasmBinary (bytes of floatcast_core.wasm) skips
 * the fetch; options.locateFile is passed to the Emscripten glue.
 */
export default async function init(options = {}) {
  const args = {};
  if (options.wasmBinary) args.wasmBinary = options.wasmBinary;
  else if (isNode()) args.wasmBinary = await nodeWasmBinary();
  if (options.locateFile) args.locateFile = options.locateFile;
  const M = await createFloatcastCore(args);

  // fc_wasm_out {char *data; size_t len;}: one slot for the module's life.
  const outSlot = M._malloc(8);
  if (!outSlot) throw new FloatcastError('out of memory', 'ENOMEM');
  // Trained cash-flow models kept across ML projections (0 = none: train
  // every time); 64 sets cover two data sets of four currencies.
  const modelCache = M._fc_wasm_cache_create(64);

  // Copies texts and byte arrays (null stays NULL) into WASM memory, runs fn(pointers,
  // lengths) and frees the copies whatever happens.
  function withTexts(texts, fn) {
    const ptrs = [];
    const lens = [];
    try {
      for (const t of texts) {
        if (t === null) {
          ptrs.push(0);
          lens.push(0);
          continue;
        }
        const bytes = t instanceof Uint8Array ? t : encoder.encode(t);
        const p = M._malloc(bytes.length || 1);
        if (!p) throw new FloatcastError('out of memory', 'ENOMEM');
        ptrs.push(p);
        lens.push(bytes.length);
        M.HEAPU8.set(bytes, p); // read HEAPU8 after malloc: growth replaces it
      }
      return fn(ptrs, lens);
    } finally {
      for (const p of ptrs) if (p) M._free(p);
    }
  }

  // Runs an export that fills outSlot, takes the answer text and frees it;
  // throws FloatcastError when the export failed.
  function answer(call) {
    M.HEAPU32[outSlot >> 2] = 0;
    M.HEAPU32[(outSlot >> 2) + 1] = 0;
    const rc = call(outSlot);
    const data = M.HEAPU32[outSlot >> 2];
    const len = M.HEAPU32[(outSlot >> 2) + 1];
    let text = null;
    if (data) {
      text = decoder.decode(M.HEAPU8.subarray(data, data + len));
      M._fc_wasm_free(data);
    }
    if (rc === 0 && text !== null) return text;
    if (text === null) throw new FloatcastError('out of memory', 'ENOMEM');
    const e = JSON.parse(text);
    throw new FloatcastError(e.message, e.code, e.rows);
  }

  function projectJSON(data, opts) {
    if (data === null || typeof data !== 'object')
      throw new TypeError('project: data must be {accounts, transfers, streams}');
    const inputs = ['accounts', 'transfers', 'streams'].map((k) => recordsInput(data[k], k));
    const texts = [...inputs.map((i) => i.text), optionsText(opts, 'project')];
    return withTexts(texts, (p, n) => answer((out) => M._fc_wasm_project(
      p[0], n[0], inputs[0].format, p[1], n[1], inputs[1].format, p[2], n[2], inputs[2].format,
      p[3], n[3], modelCache, out)));
  }

  // The rule kit (core/include/fc/projection.h) of the data a projection with opts reads.
  function ruleKitJSON(data, opts) {
    if (data === null || typeof data !== 'object')
      throw new TypeError('ruleKit: data must be {accounts, transfers, streams}');
    const inputs = ['accounts', 'transfers', 'streams'].map((k) => recordsInput(data[k], k));
    const texts = [...inputs.map((i) => i.text), optionsText(opts, 'project')];
    return withTexts(texts, (p, n) => answer((out) => M._fc_wasm_rule_kit(
      p[0], n[0], inputs[0].format, p[1], n[1], inputs[1].format, p[2], n[2], inputs[2].format,
      p[3], n[3], modelCache, out)));
  }

  function calendar(ts, opts) {
    const texts = [timeText(ts), optionsText(opts, 'calendar')];
    return JSON.parse(withTexts(texts, (p, n) => answer(
      (out) => M._fc_wasm_calendar(p[0], n[0], p[1], n[1], out))));
  }

  function demo(opts) {
    return JSON.parse(withTexts([optionsText(opts, 'demo')], (p, n) => answer(
      (out) => M._fc_wasm_demo(p[0], n[0], out))));
  }

  function segmentJSON(transactions, opts) {
    const input = recordsInput(transactions, 'transactions');
    if (input.text === null) throw new TypeError('segment: transactions are required');
    const texts = [input.text, optionsText(opts, 'segment')];
    return withTexts(texts, (p, n) => answer((out) => M._fc_wasm_segment(
      p[0], n[0], input.format, p[1], n[1], out)));
  }

  function trendsJSON(transactions, opts) {
    const input = recordsInput(transactions, 'transactions');
    if (input.text === null) throw new TypeError('trends: transactions are required');
    const texts = [input.text, optionsText(opts, 'trends')];
    return withTexts(texts, (p, n) => answer((out) => M._fc_wasm_trends(
      p[0], n[0], input.format, p[1], n[1], out)));
  }

  // forecast/backtest options pass through; for series given as arrays the
  // text is long form, so a format other than 'long' is refused.
  function seriesCall(fn, what, series, opts) {
    const text = seriesText(series, what);
    if (typeof series !== 'string' && opts && opts.format !== undefined && opts.format !== 'long')
      throw new TypeError(`${what}: format applies to CSV text only`);
    const texts = [text, optionsText(opts, what)];
    return JSON.parse(withTexts(texts, (p, n) => answer((out) => fn(p[0], n[0], p[1], n[1], out))));
  }

  // forecast: opts.load_model (saved model bytes) forecasts from them
  // without fitting (`floatcast forecast --load-model`; series optional);
  // opts.save_model returns each series' fitted model bytes as .model.
  function forecast(series, opts) {
    if (opts && opts.load_model !== undefined) {
      const { load_model: model, ...rest } = opts;
      const text = series === null || series === undefined ? null : seriesText(series, 'forecast');
      const texts = [modelBytes(model, 'forecast: load_model'), text, optionsText(rest, 'forecast')];
      return JSON.parse(withTexts(texts, (p, n) => answer((out) => M._fc_wasm_forecast_model(
        p[0], n[0], p[1], n[1], p[2], n[2], out))));
    }
    const r = seriesCall(M._fc_wasm_forecast, 'forecast', series, opts);
    if (opts && opts.save_model) for (const s of r.series) s.model = base64Bytes(s.model);
    return r;
  }

  function decomposeJSON(series, opts) {
    const texts = [seriesText(series, 'decompose'), optionsText(opts, 'decompose')];
    return withTexts(texts, (p, n) => answer((out) => M._fc_wasm_decompose(p[0], n[0], p[1], n[1], out)));
  }

  function gbdtTrain(table, opts) {
    const texts = [tableText(table, 'gbdtTrain'), optionsText(opts, 'gbdtTrain')];
    const r = JSON.parse(withTexts(texts, (p, n) => answer(
      (out) => M._fc_wasm_gbdt_train(p[0], n[0], p[1], n[1], out))));
    return { ...r, model: base64Bytes(r.model) };
  }

  function gbdtPredict(model, table) {
    const texts = [modelBytes(model), tableText(table, 'gbdtPredict')];
    return JSON.parse(withTexts(texts, (p, n) => answer(
      (out) => M._fc_wasm_gbdt_predict(p[0], n[0], p[1], n[1], out)))).predictions;
  }

  return Object.freeze({
    /** The core's version ("0.1.0"). */
    version: () => JSON.parse(answer((out) => M._fc_wasm_version(out))).version,
    /** The Tier-1 rule projection (spec/projection.md) as an object. */
    project: (data, opts) => JSON.parse(projectJSON(data, opts)),
    /** The same projection as the core's JSON text, byte for byte. */
    projectJSON,
    /** What a rule answer's floor-dependent parts read besides it (projection.h), as an object. */
    ruleKit: (data, opts) => JSON.parse(ruleKitJSON(data, opts)),
    /** Calendar features of one time. */
    calendar,
    /** The demo tenant's accounts/transfers/streams CSV for a seed. */
    demo,
    /** Customer segments of partner transactions as an object. */
    segment: (transactions, opts) => JSON.parse(segmentJSON(transactions, opts)),
    /** The same as the core's JSON text: `floatcast segment --json` byte for byte. */
    segmentJSON,
    /** Revenue trend, changepoints, weekday/month seasonality, anomalies and highlights. */
    trends: (transactions, opts) => JSON.parse(trendsJSON(transactions, opts)),
    /** The same as the core's JSON text: `floatcast trends --json` byte for byte. */
    trendsJSON,
    /** Point forecasts and intervals per series (`floatcast forecast`); save_model /
     * load_model: fitted model bytes out / in (`--save-model` / `--load-model`). */
    forecast,
    /** Rolling-origin accuracy per series and overall (`floatcast backtest`). */
    backtest: (series, opts) => seriesCall(M._fc_wasm_backtest, 'backtest', series, opts),
    /** Trend, seasonal components, changepoints, anomalies (`floatcast decompose --json`). */
    decompose: (series, opts) => JSON.parse(decomposeJSON(series, opts)),
    /** The same as text: `floatcast decompose --json` byte for byte. */
    decomposeJSON,
    /** Trains gradient-boosted trees; model is the saved model's bytes. */
    gbdtTrain,
    /** Predictions of a saved model for a table's rows (features found by name). */
    gbdtPredict,
    /** The ML projection's model cache: lookups that reused trained models, that trained, entries. */
    modelCache: () => JSON.parse(answer((out) => M._fc_wasm_cache_stats(modelCache, out))),
    /** Bytes malloc'd in the module right now (for leak checks). */
    heapInUse: () => M._fc_wasm_heap_in_use() >>> 0,
    /** Size of the module's linear memory in bytes. */
    memoryBytes: () => M.HEAPU8.length,
  });
}

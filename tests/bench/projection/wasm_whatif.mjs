// wasm_whatif.mjs: node --no-experimental-fetch tests/bench/projection/wasm_whatif.mjs build-wasm/wasm
// A page what-if in the module: the 30-day demo, a paused stream over 96 h, ml (the fitted model and its
// paths kept by the module's cache after the first call) and rule; mean of 20 calls each, with the
// pieces around the export (encoding the inputs, parsing the answer) timed alone.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
const dir = process.argv[2];
const fc = await (await import(pathToFileURL(path.join(dir, 'floatcast.mjs')).href)).default();
const d = fc.demo({ seed: 42, history_days: 30 });
const opts = { now: d.now, method: 'ml', horizon_hours: 96 };
const t = () => performance.now();
const mean = (f, n = 20) => { const a = t(); for (let i = 0; i < n; i++) f(); return ((t() - a) / n).toFixed(2); };
fc.projectJSON(d, opts);
const enc = new TextEncoder();
const ml = { ...opts, scenario: { pause_streams: ['st-001'] } };
const rule = { ...ml, method: 'rule' };
let s = fc.projectJSON(d, ml);
console.log(JSON.stringify({
  transfers_bytes: d.transfers.length, answer_bytes: s.length,
  encode_inputs_ms: mean(() => { enc.encode(d.transfers); enc.encode(d.accounts); enc.encode(d.streams); }),
  ml_whatif_ms: mean(() => { s = fc.projectJSON(d, ml); }),
  parse_answer_ms: mean(() => JSON.parse(s)),
  rule_whatif_ms: mean(() => fc.projectJSON(d, rule)),
}));

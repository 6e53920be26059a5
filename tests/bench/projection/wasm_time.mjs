// wasm_time.mjs: node --no-experimental-fetch tests/bench/projection/wasm_time.mjs build-wasm/wasm
// the 30-day demo, then projections and what-ifs that reuse the fitted model.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
const dir = process.argv[2];
const fc = await (await import(pathToFileURL(path.join(dir, 'floatcast.mjs')).href)).default();
const d = fc.demo({ seed: 42, history_days: 30 });
const opts = { now: d.now, method: 'ml', horizon_hours: 96 };
const t = () => performance.now();
let a = t(); fc.projectJSON(d, opts); const first = t() - a;
const runs = (o, n) => { const v = []; for (let i = 0; i < n; i++) { const s = t(); fc.projectJSON(d, o); v.push(t() - s); } v.sort((x, y) => x - y); return v[Math.floor(n / 2)]; };
const p96 = runs(opts, 9);
const w96 = runs({ ...opts, scenario: { pause_streams: ['st-001'] } }, 9);
const w48 = runs({ ...opts, horizon_hours: 48, scenario: { pause_streams: ['st-001'] } }, 9);
console.log(JSON.stringify({ first_fit_and_project_ms: first.toFixed(1), project_96h_median_ms: p96.toFixed(1), whatif_96h_median_ms: w96.toFixed(1), whatif_48h_median_ms: w48.toFixed(1), cache: fc.modelCache() }));

// parity_test.mjs: native and WASM give the same answers: the rule
// projection byte for byte on the demo tenant (seed 42, now = the demo's end
// of history, 48 h), and segments, forecasts, backtests and gbdt as the
// native CLI gives them (goldens of tests/golden/parity.sh; see the end).
//
// Native side, either or both:
//  - tests/golden/demo_rule_48h.json, written by the native fc_parity_dump
//    (tests/wasm/parity_dump.c) and kept current by the native ctest
//    wasm_golden_native;
//  - FC_NATIVE_CLI (a native floatcast binary): `floatcast demo --out DIR
//    --seed 42` must write the WASM demo's CSVs byte for byte, and
//    `floatcast project --data DIR --now TS --horizon 48 --method rule --json`
//    on them must print the WASM projection.
// A newline the native side adds after the JSON is allowed; nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.env.FC_WASM_DIR;
if (!dir) throw new Error('FC_WASM_DIR is not set (ctest sets it to build-wasm/wasm)');
const fc = await (await import(pathToFileURL(path.join(dir, 'floatcast.mjs')).href)).default();

const demo = fc.demo({ seed: 42 });
const wasmJson = fc.projectJSON(demo, { now: demo.now, horizon_hours: 48 });

function assertSameJson(native, what) {
  if (native === wasmJson || native === `${wasmJson}\n`) return;
  const trimmed = native;
  let i = 0;
  while (i < trimmed.length && trimmed[i] === wasmJson[i]) i++;
  assert.fail(`${what} differs from WASM at byte ${i}:\n native: ${trimmed.slice(i - 40, i + 60)}\n`
    + `   wasm: ${wasmJson.slice(i - 40, i + 60)}`);
}

test('the demo projection is a real one', () => {
  const p = JSON.parse(wasmJson);
  assert.equal(p.method, 'rule');
  assert.ok(p.currencies.length >= 3);
  assert.ok(p.currencies.every((c) => c.path.length === 49));
});

test('WASM ml projection equals the native golden file byte for byte', (t) => {
  const golden = path.join(process.env.FC_GOLDEN_DIR || '', 'demo_ml_48h.json');
  if (!process.env.FC_GOLDEN_DIR || !fs.existsSync(golden)) {
    t.skip(`no golden file at ${golden}`);
    return;
  }
  const native = fs.readFileSync(golden, 'utf8');
  const wasm = fc.projectJSON(demo, { now: demo.now, horizon_hours: 48, method: 'ml' });
  if (native === wasm || native === `${wasm}\n`) return;
  let i = 0;
  while (i < native.length && native[i] === wasm[i]) i++;
  assert.fail(`ml projection differs from the native golden at byte ${i}:\n native: ${native.slice(i - 40, i + 60)}\n`
    + `   wasm: ${wasm.slice(i - 40, i + 60)}`);
});

test('WASM equals the native golden file', (t) => {
  const golden = path.join(process.env.FC_GOLDEN_DIR || '', 'demo_rule_48h.json');
  if (!process.env.FC_GOLDEN_DIR || !fs.existsSync(golden)) {
    t.skip(`no golden file at ${golden}`);
    return;
  }
  assertSameJson(fs.readFileSync(golden, 'utf8'), golden);
});

function run(cli, args) {
  const r = spawnSync(cli, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `floatcast ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

test('WASM equals the native CLI: demo CSVs and projection', (t) => {
  const cli = process.env.FC_NATIVE_CLI;
  if (!cli || !fs.existsSync(cli)) {
    t.skip('FC_NATIVE_CLI not set (configure with -DFC_NATIVE_CLI=/path/to/build/bin/floatcast)');
    return;
  }
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-parity-'));
  try {
    run(cli, ['demo', '--out', data, '--seed', '42']);
    for (const k of ['accounts', 'transfers', 'streams'])
      assert.ok(fs.readFileSync(path.join(data, `${k}.csv`), 'utf8') === demo[k], `native ${k}.csv equals the WASM demo`);
    assertSameJson(run(cli, ['project', '--data', data, '--now', demo.now, '--horizon', '48',
      '--method', 'rule', '--json']), 'floatcast project');
  } finally {
    fs.rmSync(data, { recursive: true, force: true });
  }
});

// ---- segmentation, forecasting, gbdt: the goldens of tests/golden/parity.sh,
// which the native ctest wasm_golden_cli keeps equal to the native CLI.
const goldenDir = process.env.FC_GOLDEN_DIR;
const golden = (name) => fs.readFileSync(path.join(goldenDir, name), 'utf8');
const goldenTest = (name, fn) => test(name, (t) => {
  if (!goldenDir || !fs.existsSync(path.join(goldenDir, 'seg_txns.csv'))) {
    t.skip(`no parity goldens in ${goldenDir}`);
    return;
  }
  fn();
});

function sameText(wasm, native, what) {
  if (native === wasm || native === `${wasm}\n`) return;
  let i = 0;
  while (i < wasm.length && wasm[i] === native[i]) i++;
  assert.fail(`${what} differs at byte ${i}:\n native: ${native.slice(i - 40, i + 60)}\n   wasm: ${wasm.slice(i - 40, i + 60)}`);
}

goldenTest('segments JSON is byte for byte `floatcast segment --json`', () => {
  const txns = golden('seg_txns.csv');
  sameText(fc.segmentJSON(txns, { k: 4, seed: 3 }), golden('seg_kmeans4.json'), 'k=4');
  sameText(fc.segmentJSON(txns, { k: 'auto', seed: 1 }), golden('seg_auto.json'), 'k=auto');
  sameText(fc.segmentJSON(txns, { method: 'dbscan', min_pts: 4 }), golden('seg_dbscan.json'), 'dbscan');
});

goldenTest('trends JSON is byte for byte `floatcast trends --json`', () => {
  const txns = golden('seg_txns.csv');
  const opts = { granularity: 'week', partner: 'p1', from: '2024-02-01', utc_offset: '-05:00' };
  sameText(fc.trendsJSON(txns, opts), golden('tr_trends.json'), 'trends week');
  const doc = fc.trends(txns, opts);
  assert.equal(doc.granularity, 'week');
  assert.ok(doc.highlights.every((h) => typeof h.kind === 'string' && typeof h.text === 'string'));
  assert.throws(() => fc.trends(txns, { granularity: 'hour' }), /granularity: want day, week or month/);
});

// The CLI's forecast CSV: series_id,step,timestamp,mean,loNN,hiNN,... .
function parseCsv(text) {
  const [head, ...rows] = text.trim().split('\n').map((l) => l.split(','));
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
}

// |wasm - native| <= rel * |native|, or an absolute floor near zero.
function close(wasm, native, rel, what) {
  const tol = rel * Math.max(Math.abs(native), 1e-300);
  assert.ok(Math.abs(wasm - native) <= tol, `${what}: wasm ${wasm} vs native ${native}`);
}

function compareForecast(opts, file) {
  const f = fc.forecast(golden('ts_hourly.csv'), opts);
  const rows = parseCsv(golden(file));
  assert.equal(rows.length, f.series.reduce((a, s) => a + s.mean.length, 0));
  for (const r of rows) {
    const s = f.series.find((x) => x.id === r.series_id);
    const i = Number(r.step) - 1;
    assert.equal(s.timestamps[i], r.timestamp);
    // The CLI prints 10 significant digits, i.e. within 5e-10 relative.
    close(s.mean[i], Number(r.mean), 1e-9, `${file} ${r.series_id} step ${r.step} mean`);
    for (const iv of s.intervals) {
      close(iv.lo[i], Number(r[`lo${iv.level}`]), 1e-9, `${file} ${r.series_id} lo${iv.level}`);
      close(iv.hi[i], Number(r[`hi${iv.level}`]), 1e-9, `${file} ${r.series_id} hi${iv.level}`);
    }
  }
}

function compareRows(f, file) {
  const rows = parseCsv(golden(file));
  assert.equal(rows.length, f.series.reduce((a, s) => a + s.mean.length, 0));
  for (const r of rows) {
    const s = f.series.find((x) => x.id === r.series_id);
    const i = Number(r.step) - 1;
    assert.equal(s.timestamps[i], r.timestamp);
    close(s.mean[i], Number(r.mean), 1e-9, `${file} ${r.series_id} step ${r.step} mean`);
    for (const iv of s.intervals) {
      close(iv.lo[i], Number(r[`lo${iv.level}`]), 1e-9, `${file} ${r.series_id} lo${iv.level}`);
      close(iv.hi[i], Number(r[`hi${iv.level}`]), 1e-9, `${file} ${r.series_id} hi${iv.level}`);
    }
  }
}

goldenTest('forecasts equal `floatcast forecast` to 1e-9 relative', () => {
  compareForecast({ horizon: 24, season: 24 }, 'fc_auto.csv');
  compareForecast({ horizon: 12, season: 24, model: 'theta', levels: [50, 90] }, 'fc_theta.csv');
  compareForecast({ horizon: 30, freq: 'hour', model: 'snaive' }, 'fc_freq.csv');
});

// The H1 series of ts_hourly.csv, as parity.sh cuts it out.
const h1 = () => golden('ts_hourly.csv').split('\n').filter((l) => /^(series_id|H1),/.test(l)).join('\n');

goldenTest('prophet fits in WASM as in the native CLI (exact MAP)', () => {
  compareRows(fc.forecast(h1(), { horizon: 24, season: 24, model: 'prophet' }), 'fc_prophet.csv');
});

goldenTest('a model saved by the native CLI forecasts in WASM as `--load-model` does', () => {
  const model = new Uint8Array(fs.readFileSync(path.join(goldenDir, 'fc_prophet.model')));
  compareRows(fc.forecast(h1(), { horizon: 24, load_model: model }), 'fc_prophet.csv');
});

test('a model saved in WASM forecasts in the native CLI as in WASM', (t) => {
  const cli = process.env.FC_NATIVE_CLI;
  if (!cli || !fs.existsSync(cli) || !goldenDir) {
    t.skip('FC_NATIVE_CLI or the goldens not available');
    return;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-model-'));
  try {
    for (const model of ['prophet', 'ets']) {
      const w = fc.forecast(h1(), { horizon: 24, season: 24, model, save_model: true });
      const file = path.join(tmp, `${model}.model`);
      fs.writeFileSync(file, w.series[0].model);
      fs.writeFileSync(path.join(tmp, 'h1.csv'), h1());
      const rows = parseCsv(run(cli, ['forecast', '--load-model', file, '--input', path.join(tmp, 'h1.csv'),
        '--horizon', '24']));
      assert.equal(rows.length, 24);
      const s = w.series[0];
      for (const r of rows) {
        const i = Number(r.step) - 1;
        close(s.mean[i], Number(r.mean), 1e-9, `${model} step ${r.step} mean`);
        close(s.intervals[1].hi[i], Number(r.hi95), 1e-9, `${model} step ${r.step} hi95`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

// Same shape and strings; numbers within rel (integers exactly).
function closeJson(wasm, native, rel, where) {
  if (typeof native === 'number') {
    if (Number.isInteger(native) && Number.isInteger(wasm) && Math.abs(native) < 1e6) assert.equal(wasm, native, where);
    else assert.ok(Math.abs(wasm - native) <= rel * Math.max(Math.abs(native), 1e-12), `${where}: wasm ${wasm} vs native ${native}`);
    return;
  }
  if (native === null || typeof native !== 'object') {
    assert.equal(wasm, native, where);
    return;
  }
  assert.equal(typeof wasm, 'object', where);
  assert.deepEqual(Object.keys(wasm), Object.keys(native), where);
  for (const k of Object.keys(native)) closeJson(wasm[k], native[k], rel, `${where}.${k}`);
}

// Changepoints included: the trend's changepoint fit is an exact convex
// optimum (lasso.h), so the last bits of libm cannot move them.
goldenTest('decompose equals `floatcast decompose --json` to 1e-9 relative', () => {
  const text = fc.decomposeJSON(golden('ts_hourly.csv'), { season: 24 });
  closeJson(JSON.parse(text), JSON.parse(golden('dc_mstl.json')), 1e-9, 'decompose');
});

goldenTest('backtest equals `floatcast backtest` (6 significant digits printed)', () => {
  const b = fc.backtest(golden('ts_hourly.csv'), { horizon: 24, season: 24, model: 'snaive', origins: 2 });
  const rows = parseCsv(golden('bt_snaive.csv'));
  assert.deepEqual(rows.map((r) => r.series_id), ['H1', 'H2', 'ALL']);
  for (const r of rows) {
    const s = r.series_id === 'ALL' ? b.all : b.series.find((x) => x.id === r.series_id);
    assert.equal(r.series_id === 'ALL' ? s.series : s.origins, Number(r.origins));
    for (const k of ['mae', 'rmse', 'smape', 'mase', 'coverage80', 'coverage95'])
      close(s[k], Number(r[k]), 5e-6, `${r.series_id} ${k}`);
  }
});

goldenTest('gbdt: predictions bit for bit, and the WASM-trained model byte for byte', () => {
  const model = fs.readFileSync(path.join(goldenDir, 'gbdt_model.bin'));
  const pred = fc.gbdtPredict(new Uint8Array(model), golden('gbdt_test.csv'));
  const want = golden('gbdt_pred.csv').trim().split('\n').slice(1).map(Number); // %.17g: exact
  assert.equal(pred.length, want.length);
  pred.forEach((v, i) => assert.ok(Object.is(v, want[i]), `row ${i}: ${v} vs ${want[i]}`));
  const trained = fc.gbdtTrain(golden('gbdt_train.csv'), { target: 'y', rounds: 30, num_leaves: 8,
    min_data_in_leaf: 5, learning_rate: 0.2, seed: 1, categorical: ['cat'] });
  assert.ok(Buffer.from(trained.model).equals(model), 'trained model bytes equal the native model');
});

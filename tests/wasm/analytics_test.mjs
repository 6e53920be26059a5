// analytics_test.mjs: the WASM module's segmentation, forecasting and
// gradient-boosting functions under node (node --test).
//
// Expected values follow from how the inputs are built (two behaviour
// groups, exactly periodic series, a linear target), not from running the
// code; native parity is in parity_test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.env.FC_WASM_DIR;
if (!dir) throw new Error('FC_WASM_DIR is not set (ctest sets it to build-wasm/wasm)');
const mod = await import(pathToFileURL(path.join(dir, 'floatcast.mjs')).href);
const fc = await mod.default();
const { FloatcastError } = mod;

function throwsCore(fn, code, re) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof FloatcastError, `not a FloatcastError: ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  });
}

// Ten big weekly spenders and ten small monthly buyers over 2024, each
// user's amounts a little apart from the others'.
function transactions() {
  const rows = [];
  const day = (d) => new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10);
  for (let u = 0; u < 20; u++) {
    const big = u < 10;
    for (let d = u % 3; d < 360; d += big ? 7 : 30) {
      rows.push({
        id: `t${rows.length}`, partner_id: 'p1', user_id: `u${u}`, action_date: day(d),
        amount: big ? `${400 + (d % 50) + 3 * u}.00` : `${10 + (d % 5) + u}.50`,
        transaction_type: 'purchase', category: big ? 'electronics' : 'books',
      });
    }
  }
  return rows;
}

function toCsv(rows) {
  const cols = Object.keys(rows[0]);
  return `${cols.join(',')}\n${rows.map((r) => cols.map((c) => r[c]).join(',')).join('\n')}\n`;
}

test('segment: two behaviour groups, each user in its group, memberships sum to 1', () => {
  const rows = transactions();
  const s = fc.segment(rows, { k: 2, seed: 1 });
  assert.equal(s.method, 'kmeans');
  assert.equal(s.k, 2);
  assert.equal(s.segments.length, 2);
  assert.deepEqual(s.segments.map((g) => g.size).sort(), [10, 10]);
  const seg = Object.fromEntries(s.users.map((u) => [u.user_id, u.segment]));
  for (let u = 1; u < 20; u++) assert.equal(seg[`u${u}`] === seg.u0, u < 10, `u${u}`);
  const big = s.segments.find((g) => g.id === seg.u0);
  assert.deepEqual(big.top_categories, ['electronics']);
  for (const u of s.users) {
    const total = Object.values(u.membership).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 1) < 1e-9, `${u.user_id} membership sums to ${total}`);
  }
  // Objects, JSON text and CSV text are the same input.
  const text = fc.segmentJSON(rows, { k: 2, seed: 1 });
  assert.equal(fc.segmentJSON(JSON.stringify(rows), { k: 2, seed: 1 }), text);
  assert.equal(fc.segmentJSON(toCsv(rows), { k: 2, seed: 1 }), text);
  assert.deepEqual(s, JSON.parse(text));
  assert.equal(fc.segment(rows, { k: 2, seed: 1, include_users: false }).users, undefined);
});

test('segment: k=auto explains the choice, dbscan reports its radius', () => {
  const rows = transactions();
  const a = fc.segment(rows, { k: 'auto', seed: 2, include_users: false });
  assert.deepEqual(a.k_selection.map((s) => s.k), [2, 3, 4, 5, 6, 7, 8]);
  const top = Math.max(...a.k_selection.map((s) => s.silhouette));
  assert.equal(a.k_selection.find((s) => s.silhouette === top).k, a.k);
  assert.equal(a.silhouette, top);
  const d = fc.segment(rows, { method: 'dbscan', min_pts: 3, include_users: false });
  assert.equal(d.method, 'dbscan');
  assert.ok(d.eps > 0, `eps ${d.eps}`);
  assert.equal(d.segments.reduce((a, g) => a + g.size, 0) + d.noise, 20);
});

test('segment: errors carry the core message', () => {
  const rows = transactions();
  throwsCore(() => fc.segment(rows, { kk: 2 }), 'EINVAL', /^options: unknown key "kk"/);
  throwsCore(() => fc.segment(rows, { method: 'spectral' }), 'EINVAL', /method: want kmeans or dbscan/);
  // The wording of the core's option table (optables.h), the CLI's --k too.
  throwsCore(() => fc.segment(rows, { k: 'many' }), 'EINVAL', /^options: k: want auto or 1\.\.1000, got "many"/);
  throwsCore(() => fc.segment(rows, { windows: 400 }), 'ERANGE', /^options: windows: 400 is outside 2\.\.366/);
  throwsCore(() => fc.segment(rows, { seed: '3' }), 'EINVAL', /^options: seed: expected a number, got string/);
  throwsCore(() => fc.segment(rows.filter((r) => r.user_id === 'u1'), { k: 2 }), 'EINVAL',
    /at least 2 users/);
  const bad = `${toCsv(rows.slice(0, 3))}x9,p1,u1,2024-01-05,abc,purchase,books\n`;
  assert.throws(() => fc.segment(bad), (e) => {
    assert.equal(e.code, 'EPARSE');
    assert.match(e.message, /^transactions: line 5/);
    assert.equal(e.rows.length, 1);
    return true;
  });
  assert.throws(() => fc.segment(null), TypeError);
});

const PERIOD = [5, 9, 4, 7];
const periodic = (cycles) => Array.from({ length: 4 * cycles }, (_, i) => PERIOD[i % 4]);

test('forecast: seasonal naive repeats the last cycle; intervals bracket the mean', () => {
  const f = fc.forecast(periodic(12), { horizon: 6, season: 4, model: 'snaive', levels: [50, 90] });
  assert.equal(f.model, 'snaive');
  assert.equal(f.series.length, 1);
  const s = f.series[0];
  assert.equal(s.id, 'y');
  assert.equal(s.timestamps, null);
  assert.deepEqual(s.mean, [5, 9, 4, 7, 5, 9]);
  assert.deepEqual(s.intervals.map((i) => i.level), [50, 90]);
  for (const iv of s.intervals)
    for (let i = 0; i < 6; i++) assert.ok(iv.lo[i] <= s.mean[i] && s.mean[i] <= iv.hi[i]);
});

test('forecast: several series, gaps filled, ISO times continue the input', () => {
  const f = fc.forecast({ a: [1, 2, 3, 4, 5, 6, 7, 8], b: [10, 10, null, 10, 10, 10, 10, 10] },
    { horizon: 2, model: 'naive' });
  assert.deepEqual(f.series.map((s) => [s.id, s.filled, s.mean]), [['a', 0, [8, 8]], ['b', 1, [10, 10]]]);
  const csv = 'series_id,timestamp,value\n'
    + [0, 1, 2, 3, 4, 5].map((h) => `s,2024-05-01T0${h}:00:00Z,${h}`).join('\n');
  const t = fc.forecast(csv, { horizon: 2, model: 'naive' }).series[0];
  assert.deepEqual(t.timestamps, ['2024-05-01T06:00:00Z', '2024-05-01T07:00:00Z']);
  assert.deepEqual(t.mean, [5, 5]);
});

test('season 1 is no season (R), as the CLI\'s --season 1', () => {
  const y = { y: periodic(12).map((v, i) => v + i / 10) };
  const none = fc.forecast(y, { horizon: 4, season: 1, model: 'ets' }).series[0].mean;
  assert.deepEqual(none, fc.forecast(y, { horizon: 4, model: 'ets' }).series[0].mean);
  assert.notDeepEqual(none, fc.forecast(y, { horizon: 4, season: 4, model: 'ets' }).series[0].mean);
  throwsCore(() => fc.forecast(y, { horizon: 2, season: [1, 4] }), 'EINVAL', /whole numbers >= 2/);
});

test('forecast and backtest: errors carry the core message', () => {
  throwsCore(() => fc.forecast(periodic(3), {}), 'EINVAL', /options: horizon is required/);
  throwsCore(() => fc.forecast(periodic(3), { horizon: 2, model: 'prophecy' }), 'EINVAL',
    /unknown model "prophecy"/);
  throwsCore(() => fc.forecast(periodic(3), { horizon: 2, season: [24, 12] }), 'EINVAL', /ascending/);
  throwsCore(() => fc.forecast(periodic(3), { horizon: 2, levels: [120] }), 'EINVAL', /^options: levels: /);
  throwsCore(() => fc.forecast('series_id,timestamp,value\ns,0,1\ns,1,x\n', { horizon: 2 }), 'EPARSE',
    /^series: long: line 3: value 'x' is not a number/);
  assert.throws(() => fc.forecast({ q: [1, 2, 'x'] }, { horizon: 1 }), TypeError);
  throwsCore(() => fc.backtest(periodic(2), { horizon: 4, model: 'naive', origins: 3 }), 'ETOOSHORT',
    /^series y: history of 8 values too short/);
  throwsCore(() => fc.backtest(periodic(8), { horizon: 4, levels: [80] }), 'EINVAL',
    /unknown key "levels"/);
});

test('backtest: seasonal naive on an exactly periodic series has zero error', () => {
  const b = fc.backtest({ p: periodic(12) }, { horizon: 4, season: 4, model: 'snaive', origins: 3 });
  assert.equal(b.series.length, 1);
  const s = b.series[0];
  assert.equal(s.origins, 3);
  assert.equal(s.mae, 0);
  assert.equal(s.rmse, 0);
  assert.equal(s.smape, 0);
  assert.equal(b.all.series, 1);
  assert.equal(b.all.mae, 0);
});

// Hourly rows from 2024-05-01T00:00Z, one per value (null: no row).
function hourlyCsv(values, id = 'h') {
  const t0 = Date.UTC(2024, 4, 1);
  const rows = values.map((v, i) => (v === null ? null
    : `${id},${new Date(t0 + i * 3600e3).toISOString().replace('.000', '')},${v}`));
  return `series_id,timestamp,value\n${rows.filter((r) => r !== null).join('\n')}\n`;
}

test('forecast freq: grid times, gaps filled, default season, month ends', () => {
  const day = Array.from({ length: 24 * 8 }, (_, i) => 10 + (i % 24));
  day[30] = null;
  const f = fc.forecast(hourlyCsv(day), { horizon: 3, freq: 'hour', model: 'snaive' }).series[0];
  assert.equal(f.filled, 1);
  assert.deepEqual(f.timestamps, ['2024-05-09T00:00:00Z', '2024-05-09T01:00:00Z', '2024-05-09T02:00:00Z']);
  assert.deepEqual(f.mean, [10, 11, 12]); // season 24 by default: the last day repeats
  const months = ['2023-11-30', '2023-12-31', '2024-01-31', '2024-02-29'];
  const csv = `series_id,timestamp,value\n${months.map((d, i) => `m,${d},${i + 1}`).join('\n')}\n`;
  const m = fc.forecast(csv, { horizon: 2, freq: 'month', model: 'naive' }).series[0];
  assert.deepEqual(m.timestamps, ['2024-03-31T00:00:00Z', '2024-04-30T00:00:00Z']);
  throwsCore(() => fc.forecast(csv, { horizon: 2, model: 'naive' }), 'EPARSE', /off its step/);
  throwsCore(() => fc.forecast(hourlyCsv([1, 2, 3]).replace('T02:00:00Z', 'T02:30:00Z'),
    { horizon: 1, freq: 'hour', model: 'naive' }), 'EPARSE',
  /^series: long: line 4: series 'h': 2024-05-01T02:30:00Z is off the hour grid/);
  throwsCore(() => fc.forecast(periodic(8), { horizon: 1, freq: 'day' }), 'EPARSE', /needs ISO 8601/);
  throwsCore(() => fc.forecast(csv, { horizon: 1, freq: 'year' }), 'EINVAL', /^options: freq: /);
  throwsCore(() => fc.forecast(csv, { horizon: 1, freq: 'month', model: 'prophet', regressors: ['month_end'] }),
    'EINVAL', /month_end regressor needs hourly or daily data/);
  throwsCore(() => fc.forecast(csv, { horizon: 1, model: 'ets', regressors: ['payday'] }), 'EINVAL',
    /want business_hours or month_end/);
});

test('forecast save_model / load_model: the loaded model forecasts bit for bit', () => {
  const y = periodic(30).map((v, i) => v + 0.1 * i);
  for (const model of ['prophet', 'ets', 'arima']) {
    const fit = fc.forecast(y, { horizon: 8, season: 4, model, save_model: true }).series[0];
    assert.ok(fit.model instanceof Uint8Array && fit.model.length > 32, model);
    const back = fc.forecast(null, { horizon: 8, load_model: fit.model }).series[0];
    assert.equal(back.id, 'model');
    assert.deepEqual(back.mean, fit.mean, model);
    assert.deepEqual(back.intervals, fit.intervals, model);
    const named = fc.forecast(y, { horizon: 8, load_model: fit.model.buffer.slice(0) }).series[0];
    assert.equal(named.id, 'y');
  }
  const fit = fc.forecast(y, { horizon: 2, season: 4, model: 'theta', save_model: true }).series[0];
  const broken = fit.model.slice();
  broken[30] ^= 1;
  throwsCore(() => fc.forecast(null, { horizon: 2, load_model: broken }), 'ECORRUPT', /^model: .*checksum/);
  throwsCore(() => fc.forecast(null, { horizon: 2, load_model: fit.model.slice(0, 40) }), 'ECORRUPT', /^model: /);
  throwsCore(() => fc.forecast(y, { horizon: 2, save_model: true }), 'EINVAL', /save_model needs a single model/);
  throwsCore(() => fc.forecast({ a: y, b: y }, { horizon: 2, load_model: fit.model }), 'EINVAL', /one series/);
  assert.throws(() => fc.forecast(null, { horizon: 2, load_model: 'bytes' }), TypeError);
});

test('decompose: a linear trend plus a cycle comes apart; a spike is flagged', () => {
  // Small deterministic noise in [-0.3, 0.3], one spike of +30 at step 60.
  const y = periodic(20).map((v, i) => v + 0.5 * i + (((i * 7919) % 13) - 6) * 0.05 + (i === 60 ? 30 : 0));
  const [d] = fc.decompose({ s: y }, { season: 4 });
  assert.equal(d.series_id, 's');
  assert.deepEqual(d.components, ['season_4']);
  const mid = 20;
  // The trend rises 0.5 a step; the cycle (mean 6.25) is in the seasonal row.
  assert.ok(Math.abs(d.trend[mid + 4] - d.trend[mid] - 2) < 0.3, `${d.trend[mid + 4] - d.trend[mid]}`);
  // Robust MSTL (the default) keeps the spike out of the fit: the cycle
  // holds everywhere, and the spike alone is flagged.
  for (let i = 0; i < 80; i++)
    assert.ok(Math.abs(d.seasonal.season_4[i] - (PERIOD[i % 4] - 6.25)) < 0.5, `step ${i}`);
  assert.deepEqual(d.anomalies, [60]);
  // Plain STL (robust: false) spreads the spike into the season and trend
  // of nearby cycles, whose points are then flagged too.
  const [p] = fc.decompose({ s: y }, { season: 4, robust: false });
  assert.ok(p.anomalies.includes(60) && p.anomalies.length > 1 && p.anomalies.every((i) => i > 40),
    `${p.anomalies}`);
  throwsCore(() => fc.decompose({ s: y }, { season: 4, robust: 'off' }), 'EINVAL',
    /robust: expected true or false/);
  assert.equal(fc.decomposeJSON({ s: y }, { season: 4 }).endsWith(']\n'), true);
  throwsCore(() => fc.decompose({ s: y }, {}), 'EINVAL', /method mstl needs season or freq/);
  throwsCore(() => fc.decompose({ s: y }, { season: 4, method: 'stl' }), 'EINVAL', /want mstl or prophet/);
  throwsCore(() => fc.decompose({ s: [1, 1, 1, 1, 1, 1, 1, 1, 1] }, { season: 4 }), 'EINVAL',
    /^series s: decompose: the history is constant/);
});

test('decompose: freq gives the periods and the grid, as --freq', () => {
  // Eight weeks of daily values: a weekday pattern, a slope, hashed noise in
  // [-0.5, 0.5), +20 on day 30.
  const day = (d) => new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10);
  const noise = (i) => { const x = Math.sin(i * 12.9898) * 43758.5453; return x - Math.floor(x) - 0.5; };
  const WEEK = [0, 3, 5, 4, 2, -6, -8];
  const vals = Array.from({ length: 56 }, (_, i) => 20 + 0.05 * i + WEEK[i % 7] + noise(i) + (i === 30 ? 20 : 0));
  const text = `series_id,timestamp,value\n${vals.map((v, i) => `d,${day(i)},${v}`).join('\n')}\n`;
  const [d] = fc.decompose(text, { freq: 'day' });
  assert.deepEqual(d.components, ['season_7']);
  assert.deepEqual(d.anomalies, [30]);
  assert.equal(d.timestamp[55], '2024-02-25T00:00:00Z');
  assert.equal(fc.decomposeJSON(text, { freq: 'day' }), fc.decomposeJSON(text, { season: 7, robust: true }));
  throwsCore(() => fc.decompose(text, { freq: 'fortnight' }), 'EINVAL', /want hour, day, week, month or quarter/);
  throwsCore(() => fc.decompose(text, { freq: 'day', format: 'm4' }), 'EINVAL', /freq needs format long/);
  throwsCore(() => fc.decompose({ d: vals }, { freq: 'day' }), 'EPARSE', /needs ISO 8601 timestamps/);
});

// y = 3 x + (z == 1 ? 5 : 0), x on a grid, z categorical.
function linearTable(n) {
  return Array.from({ length: n }, (_, i) => {
    const x = (i % 50) / 10;
    const z = i % 2;
    return { x, z, noise: (i * 7919) % 13, y: 3 * x + (z === 1 ? 5 : 0) };
  });
}

test('gbdt: train then predict fits a known function; text and objects agree', () => {
  const rows = linearTable(400);
  const opts = { target: 'y', rounds: 200, learning_rate: 0.2, num_leaves: 8, min_data_in_leaf: 5,
    categorical: ['z'], seed: 3 };
  const m = fc.gbdtTrain(rows, opts);
  assert.ok(m.model instanceof Uint8Array && m.model.length > 100);
  assert.equal(m.trees, 200);
  assert.equal(m.rows, 400);
  assert.deepEqual(m.features, ['x', 'z', 'noise']);
  const test = [{ x: 1.05, z: 0 }, { x: 1.05, z: 1 }, { x: 4.25, z: 1, noise: 3 }];
  const p = fc.gbdtPredict(m.model, test);
  const want = [3.15, 8.15, 17.75];
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(p[i] - want[i]) < 0.35, `row ${i}: ${p[i]} vs ${want[i]}`);
  const csv = `x,z,noise,y\n${rows.map((r) => [r.x, r.z, r.noise, r.y].join(',')).join('\n')}\n`;
  assert.deepEqual(fc.gbdtTrain(csv, opts).model, m.model);
  assert.deepEqual(fc.gbdtPredict(m.model.buffer.slice(0), test), p);
});

test('gbdt: errors carry the core message', () => {
  const rows = linearTable(60);
  const m = fc.gbdtTrain(rows, { target: 'y', rounds: 3, min_data_in_leaf: 5 }).model;
  throwsCore(() => fc.gbdtTrain(rows, { rounds: 3 }), 'EINVAL', /options: target is required/);
  throwsCore(() => fc.gbdtTrain(rows, { target: 'w' }), 'EINVAL', /table: no column named "w"/);
  throwsCore(() => fc.gbdtTrain(rows, { target: 'y', objective: 'hinge' }), 'EINVAL', /unknown "hinge"/);
  throwsCore(() => fc.gbdtTrain(rows, { target: 'y', categorical: ['q'] }), 'EINVAL',
    /"q" is not a feature column/);
  throwsCore(() => fc.gbdtTrain('x,y\n1,2\n3,oops\n', { target: 'y' }), 'EPARSE',
    /^table: line 3: column y: "oops" is not a number/);
  const broken = m.slice();
  broken[broken.length - 20] ^= 0xff;
  throwsCore(() => fc.gbdtPredict(broken, rows), 'ECORRUPT', /^model: /);
  throwsCore(() => fc.gbdtPredict(m, [{ x: 1 }]), 'EINVAL', /no column named "z"/);
  assert.throws(() => fc.gbdtPredict('not bytes', rows), TypeError);
});

test('the heap returns to its start after many calls, failing ones included', () => {
  const rows = transactions().slice(0, 200);
  const table = linearTable(60);
  const series = { a: periodic(10), b: periodic(10).map((v) => v * 2) };
  const warm = () => {
    fc.segment(rows, { k: 2 });
    fc.forecast(series, { horizon: 4, season: 4, model: 'theta' });
    fc.backtest(series, { horizon: 4, season: 4, model: 'snaive', origins: 2 });
    fc.decompose(series, { season: 4 });
    const saved = fc.forecast({ a: series.a }, { horizon: 4, season: 4, model: 'prophet', save_model: true });
    fc.forecast(null, { horizon: 4, load_model: saved.series[0].model });
    const m = fc.gbdtTrain(table, { target: 'y', rounds: 5, min_data_in_leaf: 5 }).model;
    fc.gbdtPredict(m, table);
    for (const bad of [() => fc.segment(rows, { k: 0 }), () => fc.forecast(series, { horizon: 0 }),
      () => fc.backtest({ s: [1, 2] }, { horizon: 3 }), () => fc.gbdtPredict(m.slice(0, 9), table),
      () => fc.gbdtTrain('x,y\n', { target: 'y' }), () => fc.decompose(series, {}),
      () => fc.forecast(null, { horizon: 2, load_model: saved.series[0].model.slice(0, 50) })])
      assert.throws(bad, FloatcastError);
  };
  warm(); // the allocator settles on its first use
  const start = fc.heapInUse();
  for (let i = 0; i < 100; i++) warm();
  assert.equal(fc.heapInUse(), start);
});

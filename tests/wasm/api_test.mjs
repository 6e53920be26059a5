// api_test.mjs: the WASM module's JS API under node (node --test).
//
// FC_WASM_DIR names the build's wasm/ folder (ctest sets it). Expected
// figures come from the rule in docs/spec/projection.md worked by hand on a
// three-row data set, not from running the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);

const dir = process.env.FC_WASM_DIR;
if (!dir) throw new Error('FC_WASM_DIR is not set (ctest sets it to build-wasm/wasm)');
const mod = await import(pathToFileURL(path.join(dir, 'floatcast.mjs')).href);
const fc = await mod.default();
const { FloatcastError } = mod;

const NOW = '2025-12-01T12:00:00Z';
const ACCOUNTS = `id,tenant_id,currency,balance_available
a1,t1,USDC,1000.000000
a2,t1,USD,500.00
`;
// t1: USDC outflow 300 at +8 h; t2: USD inflow 50 at +22 h; t3: beyond 48 h;
// t4: completed (history, not scheduled).
const TRANSFERS = `id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at,scheduled_for
t1,t1,a1,ext,USDC,300.000000,pending,2025-11-30T00:00:00Z,2025-12-01T20:00:00Z
t2,t1,ext,a2,USD,50.00,pending,2025-11-30T00:00:00Z,2025-12-02T10:00:00Z
t3,t1,a2,ext,USD,70.00,pending,2025-11-30T00:00:00Z,2025-12-05T10:00:00Z
t4,t1,a1,ext,USDC,10.000000,completed,2025-11-30T00:00:00Z,
`;
// 0.001 USDC/s = 3.6/h; 48 h = 172.8 < remaining 400.
const STREAMS = `id,tenant_id,currency,flow_rate_per_second,funded_amount,total_streamed,status,started_at
s1,t1,USDC,0.001,500,100,active,2025-11-01T00:00:00Z
s2,t1,USDC,0.5,100,0,paused,2025-11-01T00:00:00Z
`;
const DATA = { accounts: ACCOUNTS, transfers: TRANSFERS, streams: STREAMS };

function csvToObjects(csv) {
  const [head, ...rows] = csv.trim().split('\n').map((l) => l.split(','));
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]]).filter(([, v]) => v !== '')));
}

function byCurrency(p) {
  return Object.fromEntries(p.currencies.map((c) => [c.currency, c]));
}

// Asserts that fn throws a FloatcastError with this code whose message matches re.
function throwsCore(fn, code, re) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof FloatcastError, `not a FloatcastError: ${e}`);
    assert.ok(e instanceof Error);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  });
}

test('version is the core version', () => {
  assert.match(fc.version(), /^\d+\.\d+\.\d+$/);
});

test('rule projection over CSV matches the hand-worked figures', () => {
  const p = fc.project(DATA, { now: NOW, horizon_hours: 48 });
  assert.equal(p.tenant_id, 't1');
  assert.equal(p.as_of, NOW);
  assert.equal(p.horizon_hours, 48);
  assert.equal(p.method, 'rule');
  assert.deepEqual(p.currencies.map((c) => c.currency), ['USD', 'USDC']);
  const { USD, USDC } = byCurrency(p);
  assert.equal(USDC.current_balance, '1000.000000');
  assert.equal(USDC.rule.scheduled_outflows, '300.000000');
  assert.equal(USDC.rule.stream_drain, '172.800000');
  assert.equal(USDC.rule.projected_balance, '527.200000');
  assert.equal(USD.current_balance, '500.00');
  assert.equal(USD.rule.projected_balance, '550.00');
  assert.equal(USDC.path.length, 49);
  assert.equal(USDC.path[0].p50, 1000);
  assert.equal(USDC.path[48].p50, 527.2);
  // The outflow at 20:00 lands in hour 8, which ends then.
  assert.equal(USDC.path[8].scheduled_out, 300);
  assert.equal(USDC.path[7].p50, 1000 - 7 * 3.6);
  const s1 = USDC.streams.find((s) => s.id === 's1');
  assert.equal(s1.remaining, '400.000000');
  assert.equal(s1.hours_until_depleted, 111.11); // 400 / 3.6, 2 decimals
  assert.equal(s1.runway_status, 'healthy');
});

test('horizon and Date/epoch forms of now', () => {
  const epoch = Date.parse(NOW) / 1000;
  const a = fc.projectJSON(DATA, { now: NOW, horizon_hours: 4 });
  assert.equal(fc.projectJSON(DATA, { now: epoch, horizon_hours: 4 }), a);
  assert.equal(fc.projectJSON(DATA, { now: new Date(NOW), horizon_hours: 4 }), a);
  const USDC = byCurrency(JSON.parse(a)).USDC;
  assert.equal(USDC.path.length, 5);
  assert.equal(USDC.rule.scheduled_outflows, '0.000000'); // t1 is at +8 h
  assert.equal(USDC.rule.projected_balance, '985.600000');
});

test('objects, JSON text and CSV give the same projection', () => {
  const opts = { now: NOW };
  const fromCsv = fc.projectJSON(DATA, opts);
  const objects = {
    accounts: csvToObjects(ACCOUNTS),
    transfers: csvToObjects(TRANSFERS),
    streams: csvToObjects(STREAMS),
  };
  assert.equal(fc.projectJSON(objects, opts), fromCsv);
  const jsonText = Object.fromEntries(Object.entries(objects).map(([k, v]) => [k, JSON.stringify(v)]));
  assert.equal(fc.projectJSON(jsonText, opts), fromCsv);
  assert.deepEqual(fc.project(DATA, opts), JSON.parse(fromCsv));
});

test('options reach the core: floors, currency, tenant', () => {
  const p = fc.project(DATA, { now: NOW, floors: 'USDC=600', currency: 'USDC' });
  assert.deepEqual(p.currencies.map((c) => c.currency), ['USDC']);
  const USDC = p.currencies[0];
  assert.equal(USDC.depletion.floor, '600.000000');
  assert.equal(USDC.depletion.probability['48h'], 1);
  assert.equal(USDC.depletion.risk, 'high');
  // Hour k holds 1000 - 3.6k - 300 from k = 8: 602.8 at hour 27, 599.2 at hour 28.
  assert.equal(USDC.depletion.expected_at, '2025-12-02T16:00:00Z');
  throwsCore(() => fc.project(DATA, { now: NOW, tenant_id: 'nobody' }), 'ENOTFOUND', /nobody/);
  throwsCore(() => fc.project(DATA, { now: NOW, currency: 'EUR' }), 'ENOTFOUND', /EUR/);
});

test('bad CSV throws the core message with the file and line', () => {
  const bad = TRANSFERS.replace('300.000000', '3x0');
  throwsCore(() => fc.project({ ...DATA, transfers: bad }, { now: NOW }), 'EPARSE',
    /^transfers: line 2: amount: .*3x0/);
  try {
    fc.project({ ...DATA, transfers: bad }, { now: NOW });
  } catch (e) {
    assert.deepEqual(e.rows.map((r) => r.row), [2]);
  }
  throwsCore(() => fc.project({ ...DATA, accounts: ACCOUNTS.replace('USD,', 'XYZW,') }, { now: NOW }),
    'ECURRENCY', /^accounts: line 3: /);
  throwsCore(() => fc.project({ ...DATA, streams: 'id,tenant_id\n' }, { now: NOW }), 'EPARSE', /^streams: /);
});

test('bad JSON records throw with the file and index', () => {
  throwsCore(() => fc.project({ accounts: '[{"id": "a1",' }, { now: NOW }), 'EPARSE', /^accounts: /);
  throwsCore(() => fc.project({ accounts: [{ id: 1 }] }, { now: NOW }), 'EPARSE', /^accounts: index 0: id: /);
});

test('bad options are named', () => {
  throwsCore(() => fc.project(DATA, {}), 'EINVAL', /now is required/);
  throwsCore(() => fc.project(DATA, { now: 'yesterday' }), 'EPARSE', /^options: now: /);
  throwsCore(() => fc.project(DATA, { now: NOW, horizon_hours: 0 }), 'ERANGE', /horizon_hours/);
  throwsCore(() => fc.project(DATA, { now: NOW, horizon_hours: 721 }), 'ERANGE', /horizon_hours/);
  throwsCore(() => fc.project(DATA, { now: NOW, horizon_hours: 1.5 }), 'EINVAL', /whole number/);
  throwsCore(() => fc.project(DATA, { now: NOW, horizon_hours: '48' }), 'EINVAL', /expected a number/);
  throwsCore(() => fc.project(DATA, { now: NOW, horizon: 48 }), 'EINVAL', /unknown key "horizon"/);
  throwsCore(() => fc.project(DATA, { now: NOW, floors: 'USDC=abc' }), 'EPARSE', /.+/);
  throwsCore(() => fc.project(DATA, { now: NOW, currencies: 'usd=x' }), 'EPARSE', /^options: currencies: /);
  assert.throws(() => fc.project(DATA, { now: NOW, risk_high: NaN }), FloatcastError); // NaN -> null
  assert.throws(() => fc.project({ accounts: 42 }, { now: NOW }), TypeError);
  assert.throws(() => fc.project(null, { now: NOW }), TypeError);
});

test('what-if scenario changes a copy and matches the hand-worked figures', () => {
  const base = fc.project(DATA, { now: NOW });
  const usdcBase = base.currencies.find((c) => c.currency === 'USDC');
  // Cancel t1 (300 USDC), pause s1 (172.8 of drain) and add a 25 USD payment at +30 h.
  const wi = fc.project(DATA, {
    now: NOW,
    scenario: {
      cancel_transfers: ['t1'],
      pause_streams: ['s1'],
      transfers: [{ id: 'w1', from_account_id: 'a2', to_account_id: 'v', currency: 'USD', amount: '25.00',
        status: 'pending', created_at: NOW, scheduled_for: '2025-12-02T18:00:00Z' }],
    },
  });
  const usdc = wi.currencies.find((c) => c.currency === 'USDC');
  const usd = wi.currencies.find((c) => c.currency === 'USD');
  assert.equal(usdcBase.rule.projected_balance, '527.200000');
  assert.equal(usdc.rule.projected_balance, '1000.000000');
  assert.equal(usd.rule.projected_balance, '525.00');
  // The data passed in is untouched: the baseline projects as before.
  assert.equal(fc.project(DATA, { now: NOW }).currencies.find((c) => c.currency === 'USDC').rule.projected_balance,
    '527.200000');
  assert.throws(() => fc.project(DATA, { now: NOW, scenario: { pause_stream: ['s1'] } }),
    (e) => e instanceof FloatcastError && /options: scenario: unknown member 'pause_stream'|unknown member 'pause_stream'/.test(e.message));
  assert.throws(() => fc.project(DATA, { now: NOW, scenario: { pause_streams: ['nope'] } }), /no stream 'nope'/);
  assert.throws(() => fc.project(DATA, { now: NOW, scenario: [1] }), /scenario: expected an object/);
});

test('ml method: the demo tenant equals the native CLI; bad method refused', () => {
  const d = fc.demo({ seed: 42 });
  const p = fc.project(d, { now: d.now, method: 'ml' });
  assert.equal(p.method, 'ml');
  for (const c of p.currencies) {
    assert.equal(c.path.length, 49);
    assert.equal(c.path[0].p50, Number(c.current_balance));
    const last = c.path[48];
    assert.ok(last.p10 <= last.p50 && last.p50 <= last.p90, `${c.currency} band ordered`);
  }
  const cli = process.env.FC_NATIVE_CLI;
  if (cli) {
    const fs = require('node:fs');
    const os = require('node:os');
    const { execFileSync } = require('node:child_process');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-ml-'));
    for (const k of ['accounts', 'transfers', 'streams']) fs.writeFileSync(path.join(dir, `${k}.csv`), d[k]);
    const native = execFileSync(cli, ['project', '--data', dir, '--now', d.now, '--method', 'ml', '--json']).toString();
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(fc.projectJSON(d, { now: d.now, method: 'ml' }), native, 'WASM ml projection equals the native bytes');
  }
  assert.throws(() => fc.project(d, { now: d.now, method: 'magic' }), /method 'magic': want rule, ml or gbdt/);
  const g = fc.project(d, { now: d.now, method: 'gbdt', currency: 'GBP' });
  assert.equal(g.method, 'gbdt');
  assert.equal(g.currencies[0].model.name, 'gbdt-quantile-direct');
});

test('calendar features of known dates', () => {
  const c = fc.calendar('2025-12-31T10:30:00Z');
  assert.deepEqual(c, {
    at: '2025-12-31T10:30:00Z', epoch: 1767177000, year: 2025, month: 12, day_of_month: 31,
    days_in_month: 31, hour: 10, iso_dow: 3, is_business_hours: true, is_month_end: true,
    week_period: 'mid_week',
  });
  assert.deepEqual(fc.calendar(1767177000), c);
  assert.deepEqual(fc.calendar(new Date('2025-12-31T10:30:00Z')), c);
  // 16:30Z is 18:30 at UTC+2: outside business hours there.
  assert.equal(fc.calendar('2025-12-31T16:30:00Z').is_business_hours, true);
  assert.equal(fc.calendar('2025-12-31T16:30:00Z', { utc_offset_minutes: 120 }).is_business_hours, false);
  const leap = fc.calendar('2024-02-27T00:00:00Z');
  assert.equal(leap.days_in_month, 29);
  assert.equal(leap.is_month_end, true);
  assert.equal(fc.calendar('2024-02-26T23:59:59Z').is_month_end, false);
  assert.equal(fc.calendar('2025-12-06').week_period, 'weekend'); // a Saturday
  assert.equal(fc.calendar('2025-12-06').iso_dow, 6);
});

test('calendar errors', () => {
  throwsCore(() => fc.calendar('garbage'), 'EPARSE', /^time: /);
  throwsCore(() => fc.calendar('2025-02-30'), 'EPARSE', /^time: /);
  throwsCore(() => fc.calendar(1e15), 'ERANGE', /^time: /);
  throwsCore(() => fc.calendar(NOW, { utc_offset_minutes: 900 }), 'ERANGE', /utc_offset_minutes/);
  throwsCore(() => fc.calendar(NOW, { business_start_hour: 18 }), 'EINVAL', /business_start_hour/);
  throwsCore(() => fc.calendar(NOW, { tz: 'CET' }), 'EINVAL', /unknown key "tz"/);
  assert.throws(() => fc.calendar(1.5), TypeError);
  assert.throws(() => fc.calendar({}), TypeError);
});

test('demo data is deterministic and projects', () => {
  const a = fc.demo({ seed: 7 });
  const b = fc.demo({ seed: 7 });
  const c = fc.demo({ seed: 8 });
  assert.deepEqual(a, b);
  assert.notEqual(a.transfers, c.transfers);
  assert.equal(a.seed, 7);
  assert.match(a.accounts, /^[a-z_,]*\bid\b/);
  assert.ok(a.transfers.split('\n').length > 1000, 'a realistic number of transfers');
  const p = fc.project(a, { now: a.now, horizon_hours: 48 });
  assert.equal(p.tenant_id, a.tenant_id);
  assert.ok(p.currencies.length >= 1);
  assert.ok(p.currencies.some((cur) => cur.streams.length > 0));
  throwsCore(() => fc.demo({ seed: -1 }), 'ERANGE', /seed/);
  throwsCore(() => fc.demo({ history_days: 0 }), 'ERANGE', /history_days/);
});

test('gbdt what-ifs reuse the trained trees and answer the same bytes as a fresh module', async () => {
  const demo = fc.demo({ seed: 7 }); // data no earlier test projected, so its models are not cached yet
  const opts = { now: demo.now, method: 'gbdt', currency: 'USDC' };
  const pause = { ...opts, scenario: { pause_streams: ['st-001'] } };
  const c0 = fc.modelCache();
  const base = fc.projectJSON(demo, opts);
  const c1 = fc.modelCache();
  assert.ok(c1.misses > c0.misses, 'the first gbdt projection trains');
  assert.equal(fc.projectJSON(demo, opts), base);
  const c2 = fc.modelCache();
  assert.equal(c2.misses, c1.misses, 'the same projection again trains nothing');
  assert.equal(c2.hits - c1.hits, c1.misses - c0.misses);
  const paused = fc.projectJSON(demo, pause);
  const c3 = fc.modelCache();
  assert.equal(c3.misses, c2.misses, 'pausing a stream changes only the future');
  assert.ok(c3.hits > c2.hits);
  assert.notEqual(paused, base);
  const fresh = await mod.default();
  assert.equal(fresh.projectJSON(demo, pause), paused);
  assert.equal(fresh.modelCache().hits, 0);
});

test('a data set is read once, and again when its bytes or its currencies change; answers as a fresh module', async () => {
  const demo = fc.demo({ seed: 11 }); // data no earlier test projected
  const opts = { now: demo.now, horizon_hours: 24 };
  const fresh = async (data, o) => (await mod.default()).projectJSON(data, o);
  const c0 = fc.modelCache();
  assert.equal(fc.projectJSON(demo, opts), await fresh(demo, opts));
  const c1 = fc.modelCache();
  assert.equal(c1.data_reads, c0.data_reads + 1, 'new data is read');
  const later = { ...opts, horizon_hours: 12, floors: 'USD=100000' };
  assert.equal(fc.projectJSON(demo, later), await fresh(demo, later));
  const c2 = fc.modelCache();
  assert.equal(c2.data_reads, c1.data_reads, 'the same bytes are not read again');
  assert.equal(c2.data_reuses, c1.data_reuses + 1);
  // One balance one cent higher: other bytes of the same length, read again.
  const richer = { ...demo, accounts: demo.accounts.replace(/^(acc-[^,\n]*,[^,\n]*,[A-Z]+,\d+\.\d)(\d)$/m, (m, head, d) => `${head}${(Number(d) + 1) % 10}`) };
  assert.notEqual(richer.accounts, demo.accounts);
  assert.equal(richer.accounts.length, demo.accounts.length);
  assert.equal(fc.projectJSON(richer, opts), await fresh(richer, opts));
  assert.notEqual(fc.projectJSON(richer, opts), fc.projectJSON(demo, opts));
  const c3 = fc.modelCache();
  assert.equal(c3.data_reads, c2.data_reads + 2, 'changed bytes are read (and the first data again after them)');
  // The same bytes under other currency scales are another data set.
  const scaled = { ...opts, currencies: 'USD=3' };
  assert.equal(fc.projectJSON(demo, scaled), await fresh(demo, scaled));
  assert.equal(fc.modelCache().data_reads, c3.data_reads + 1, 'other currencies: read again');
  // Data the core refuses is not kept: the next call reports the same error.
  const broken = { ...demo, accounts: `${demo.accounts}acc-x,${demo.tenant_id},USD,not-a-number\n` };
  throwsCore(() => fc.project(broken, opts), 'EPARSE', /balance|amount|number/);
  throwsCore(() => fc.project(broken, opts), 'EPARSE', /balance|amount|number/);
});

test('ml what-ifs reuse the fitted flow model and answer the same bytes as a fresh module', async () => {
  const demo = fc.demo({ seed: 9 });
  const opts = { now: demo.now, method: 'ml', horizon_hours: 72 };
  const pause = { ...opts, scenario: { pause_streams: ['st-001'] } };
  const c0 = fc.modelCache();
  const base = fc.projectJSON(demo, opts);
  const c1 = fc.modelCache();
  assert.equal(c1.model_fits, c0.model_fits + 1, 'the first ml projection fits');
  const paused = fc.projectJSON(demo, pause);
  const c2 = fc.modelCache();
  assert.equal(c2.model_fits, c1.model_fits, 'a what-if of known flows fits nothing');
  assert.equal(c2.model_reuses, c1.model_reuses + 1);
  assert.ok(c2.simulation_reuses > c1.simulation_reuses, 'the what-if reads the kept paths');
  assert.notEqual(paused, base);
  const fresh = await mod.default();
  assert.equal(fresh.projectJSON(demo, pause), paused, 'the reused model answers what a fresh fit answers');
  // A kept model answers another seed as a fresh module does (its calibration seed is its own).
  assert.equal(fc.projectJSON(demo, { ...opts, seed: 2 }), (await mod.default()).projectJSON(demo, { ...opts, seed: 2 }));
  const p = JSON.parse(paused);
  for (const c of p.currencies) {
    assert.ok('time_to_breach_hours' in c.depletion && Array.isArray(c.depletion.drivers));
    assert.equal(c.model.name, 'flow-sim');
  }
  throwsCore(() => fc.project(demo, { ...opts, paths: 5 }), 'ERANGE', /paths/);
});

test('an ml projection at another now or on other data fits again, whatever model was matched before', async () => {
  const demo = fc.demo({ seed: 5 });
  const opts = { now: demo.now, method: 'ml', horizon_hours: 24 };
  const fresh = async (data, o) => (await mod.default()).projectJSON(data, o);
  fc.projectJSON(demo, opts);
  const c1 = fc.modelCache();
  assert.equal(fc.projectJSON(demo, { ...opts, floors: 'USD=1000' }), await fresh(demo, { ...opts, floors: 'USD=1000' }));
  assert.equal(fc.modelCache().model_fits, c1.model_fits, 'a what-if on the same data and now fits nothing');
  const later = { ...opts, now: new Date(Date.parse(demo.now) + 3600e3).toISOString() };
  assert.equal(fc.projectJSON(demo, later), await fresh(demo, later));
  assert.equal(fc.modelCache().model_fits, c1.model_fits + 1, 'another now fits again');
  const richer = { ...demo, transfers: demo.transfers.replace(/,completed,/, ',failed,') };
  assert.notEqual(richer.transfers, demo.transfers);
  assert.equal(fc.projectJSON(richer, later), await fresh(richer, later));
  assert.equal(fc.modelCache().model_fits, c1.model_fits + 2, 'other history fits again');
  assert.equal(fc.projectJSON(demo, later), await fresh(demo, later));
  assert.equal(fc.modelCache().model_fits, c1.model_fits + 3, 'the first data again: fitted again');
});

test('10,000 calls leave the heap where it started', () => {
  const smallObjects = { accounts: csvToObjects(ACCOUNTS), transfers: TRANSFERS, streams: STREAMS };
  const calls = [
    () => fc.project(DATA, { now: NOW, horizon_hours: 24 }),
    () => fc.project(smallObjects, { now: NOW, floors: 'USDC=600' }),
    () => fc.project({ ...DATA, transfers: TRANSFERS.replace('50.00', '-1') }, { now: NOW }),
    () => fc.project(DATA, { now: NOW, horizon_hours: 0 }),
    () => fc.project({ accounts: '[{' }, { now: NOW }),
    () => fc.calendar(NOW, { utc_offset_minutes: 60 }),
    () => fc.calendar('not a time'),
    () => fc.version(),
  ];
  const run = (n) => {
    for (let i = 0; i < n; i++) {
      try { calls[i % calls.length](); } catch (e) { if (!(e instanceof FloatcastError)) throw e; }
    }
  };
  // The state the module keeps (the last data set read, and whatever the
  // earlier tests left in its caches) is brought to the same place after a
  // short run and after the long one, so any growth with the calls shows.
  const demo = fc.demo();
  const settle = () => {
    for (let i = 0; i < 5; i++) fc.project(fc.demo({ seed: i }), { now: demo.now });
    fc.project(demo, { now: demo.now });
  };
  run(1000); // lets the allocator reach its steady state
  settle();
  const before = fc.heapInUse();
  const memBefore = fc.memoryBytes();
  run(10000);
  settle();
  // dlmalloc counts a split chunk's slack (under 16 bytes) as in use, so the
  // same live blocks placed otherwise differ by a few bytes (a clone of
  // exact-size tables moved it by 8); one leaked block per call of any of
  // the eight kinds (1,250 calls each, 16 bytes or more a block) is 20 KB.
  const drift = fc.heapInUse() - before;
  assert.ok(Math.abs(drift) < 256, `bytes in use after 10,000 calls: ${drift} more than before`);
  assert.equal(fc.memoryBytes(), memBefore, 'linear memory did not grow');
});

// ruleshift_test.mjs: the page's rule what-ifs (web/ruleshift.js) against the
// WASM module (node --test). A floor change, or a payment added to or removed
// from the scenario, worked out on the page from a rule answer and its rule
// kit must be the module's answer for the new options byte for byte (as JSON
// text of the parsed answers, which is what the page draws), on random floors
// and payments over the demo tenant and over a made-up tenant whose drivers
// tie, run dry and start later; inputs the module refuses must not be worked
// out on the page (shiftRule answers null). FC_WASM_DIR: the build's wasm/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixedText, floorsFor, formatMoney, kitKey, parseMoney, shiftRule } from '../../web/ruleshift.js';

const dir = process.env.FC_WASM_DIR;
if (!dir) throw new Error('FC_WASM_DIR is not set (ctest sets it to build-wasm/wasm)');
const mod = await import(pathToFileURL(path.join(dir, 'floatcast.mjs')).href);
const fc = await mod.default();

// A seeded generator (mulberry32): the same cases on every run.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = (r, xs) => xs[Math.floor(r() * xs.length)];
const int = (r, lo, hi) => lo + Math.floor(r() * (hi - lo + 1));

const demo = fc.demo({ seed: 42 });
const DEMO = { accounts: demo.accounts, transfers: demo.transfers, streams: demo.streams };
const NOW = new Date((Math.floor(Date.parse(demo.now) / 3600e3) + 1) * 3600e3).toISOString().replace('.000Z', 'Z');

// A tenant made for the edges: twenty equal outflows (the drivers' tie rule
// past sixteen candidates), streams that run dry inside the horizon, one
// that starts later, one paused, and currencies of 0, 2 and 6 decimals.
const MADE_NOW = '2025-06-02T10:00:00Z';
const MADE = {
  accounts: ['id,tenant_id,currency,balance_available', 'u1,m,USD,250000.00', 'u2,m,USD,1200.50', 'c1,m,USDC,90000.000000',
    'e1,m,EUR,40000.00', 'k1,m,EURC,5000.000000', 'j1,m,JPY,3000000'].join('\n'),
  transfers: ['id,tenant_id,from_account_id,to_account_id,currency,amount,status,created_at,scheduled_for',
    ...Array.from({ length: 20 }, (_, i) => `tie${String(19 - i).padStart(2, '0')},m,u1,x,USD,7000.00,pending,2025-06-01T00:00:00Z,2025-06-0${2 + Math.floor(i / 8)}T${String(11 + (i % 8)).padStart(2, '0')}:30:00Z`),
    'big,m,c1,x,USDC,60000.000000,pending,2025-06-01T00:00:00Z,2025-06-03T04:00:00Z',
    'in1,m,x,c1,USDC,15000.000000,pending,2025-06-01T00:00:00Z,2025-06-02T20:00:00Z',
    'now1,m,e1,x,EUR,39000.00,pending,2025-06-01T00:00:00Z,2025-06-02T10:00:00Z',
    'jp1,m,j1,x,JPY,2900000,pending,2025-06-01T00:00:00Z,2025-06-02T15:00:00Z',
    'old,m,u1,x,USD,5.00,completed,2025-05-01T00:00:00Z,'].join('\n'),
  streams: ['id,tenant_id,currency,flow_rate_per_second,funded_amount,total_streamed,status,started_at',
    's-dry,m,USDC,0.25,20000,0,active,2025-06-01T00:00:00Z',
    's-slow,m,USDC,0.000123456789,100,1,active,2025-05-01T00:00:00Z',
    's-late,m,USD,0.05,10000,0,active,2025-06-03T00:00:00Z',
    's-paused,m,USD,1,10000,0,paused,2025-06-01T00:00:00Z',
    's-eur,m,EUR,0.1,700,0,active,2025-06-01T00:00:00Z',
    's-jpy,m,JPY,3.7,100000,0,active,2025-06-01T00:00:00Z'].join('\n'),
};

const sets = [['demo', DEMO, NOW], ['made', MADE, MADE_NOW]];
const text = (p) => JSON.stringify(p);
const scalesOf = (p) => Object.fromEntries(p.currencies.map((c) => [c.currency, (c.current_balance.split('.')[1] || '').length]));
const accountIds = (csv) => new Set(csv.trim().split('\n').slice(1).map((l) => l.split(',')[0]));

// A random floors option: per currency a floor between 0 and a little above
// its highest balance (so that breaches fall at any hour), or a '*' item.
function randomFloors(r, p) {
  const items = [];
  for (const c of p.currencies) {
    if (r() < 0.25) continue;
    const scale = (c.current_balance.split('.')[1] || '').length;
    const hi = Math.max(...c.path.map((q) => q.p50), 1) * 1.1;
    const digits = int(r, 0, scale);
    items.push(`${c.currency}=${(r() * hi).toFixed(digits)}`);
  }
  if (r() < 0.3) items.push(`*=${(r() * 50000).toFixed(int(r, 0, 2))}`);
  if (r() < 0.2) items.reverse();
  return items.length ? items.join(',') : undefined;
}

function randomPayment(r, data, now, H, n) {
  const accts = data.accounts.trim().split('\n').slice(1).map((l) => l.split(','));
  const [id, , ccy] = pick(r, accts);
  const scale = ccy === 'JPY' ? 0 : /C$/.test(ccy) ? 6 : 2;
  const out = r() < 0.7;
  const hours = r() < 0.1 ? H + int(r, 1, 10) : r() < 0.05 ? 0 : int(r, 1, H);
  const at = new Date(Date.parse(now) + hours * 3600e3 - int(r, 0, 3599) * 1000 * (hours > 0 ? 1 : 0));
  const amount = (r() * (r() < 0.5 ? 5000 : 300000)).toFixed(int(r, 0, scale)) || '1';
  return { id: `whatif-${n}`, from_account_id: out ? id : `whatif-payer-${n}`, to_account_id: out ? `whatif-payee-${n}` : id,
    currency: ccy, amount: parseMoney(amount, scale) > 0n ? amount : '1', status: 'pending', created_at: now,
    scheduled_for: at.toISOString().replace('.000Z', 'Z') };
}

test('fixed formatting is printf\'s: exact ties to the even neighbour, no negative zero', () => {
  assert.equal(fixedText(0.0625, 3), '0.062');
  assert.equal(fixedText(0.1875, 3), '0.188');
  assert.equal(fixedText(2.5, 0), '2');
  assert.equal(fixedText(3.5, 0), '4');
  assert.equal(fixedText(-0.001, 2), '0.00');
  assert.equal(fixedText(-1.25, 1), '-1.2');
  assert.equal(fixedText(1234567.891, 2), '1234567.89');
});

test('floors are read as the core reads them', () => {
  const s = { USD: 2, USDC: 6 };
  assert.deepEqual(floorsFor('USD=5,*=1.1', s), { USD: 500n, USDC: 1100000n });
  assert.deepEqual(floorsFor('*=1,*=2', s), { USD: 200n, USDC: 2000000n }); // the last '*'
  assert.deepEqual(floorsFor('USD=1,USD=2', s), { USD: 100n, USDC: 0n }); // the first own item
  assert.equal(floorsFor('*=1.123,USD=5', s), null); // '*' read at USD's scale first: refused
  assert.equal(floorsFor('USD=-1', s), null);
  assert.equal(floorsFor('USD=1,', s), null);
  assert.equal(floorsFor('EUR=1', s), null); // a currency not on screen: the worker's
  assert.equal(formatMoney(-5n, 2), '-0.05');
});

test('a floor change worked out on the page is the module\'s answer', () => {
  const r = rng(7);
  let cases = 0, breaches = 0, recs = 0, shares = 0;
  for (const [, data, now] of sets) {
    for (const H of [1, 12, 24, 47, 48, 72, 96, 200]) {
      const opts = { now, horizon_hours: H };
      const base = fc.project(data, opts);
      const kit = fc.ruleKit(data, opts);
      for (let i = 0; i < 40; i++) {
        const floors = randomFloors(r, base);
        const want = fc.project(data, floors === undefined ? opts : { ...opts, floors });
        const got = shiftRule(base, kit, { floors });
        assert.ok(got, `worked out: ${H} h, floors ${floors}`);
        assert.equal(text(got.p), text(want), `${H} h, floors ${floors}`);
        cases++;
        breaches += want.currencies.filter((c) => c.depletion.expected_at !== null).length;
        shares += want.currencies.reduce((n, c) => n + c.depletion.drivers.length, 0);
        recs += want.recommendations.length;
      }
    }
  }
  // The cases reach what they are meant to check.
  assert.ok(cases >= 600 && breaches > cases / 2 && recs > cases / 4 && shares > cases, `${cases} ${breaches} ${recs} ${shares}`);
});

test('a payment added or removed on the page is the module\'s answer, and so is its kit', () => {
  const r = rng(11);
  let added = 0, removed = 0, moved = 0;
  for (const [, data, now] of sets) {
    const accounts = accountIds(data.accounts);
    for (const H of [6, 24, 48, 96]) {
      let transfers = [];
      let n = 0;
      for (let i = 0; i < 40; i++) {
        const floors = r() < 0.5 ? randomFloors(r, fc.project(data, { now, horizon_hours: H })) : undefined;
        const opts = (ts) => ({ now, horizon_hours: H, ...(floors ? { floors } : {}), ...(ts.length ? { scenario: { transfers: ts } } : {}) });
        const before = fc.project(data, opts(transfers));
        const kit = fc.ruleKit(data, opts(transfers));
        const remove = transfers.length && r() < 0.35;
        const t = remove ? pick(r, transfers) : randomPayment(r, data, now, H, ++n);
        const next = remove ? transfers.filter((x) => x !== t) : [...transfers, t];
        const want = fc.project(data, opts(next));
        const got = shiftRule(before, kit, { floors, add: remove ? [] : [t], remove: remove ? [t] : [], accounts });
        assert.ok(got, `worked out: ${JSON.stringify(t)}`);
        assert.equal(text(got.p), text(want), `${remove ? 'removed' : 'added'} ${JSON.stringify(t)}, ${H} h, floors ${floors}`);
        assert.equal(text(got.kit), text(fc.ruleKit(data, opts(next))), 'the kit of the new scenario');
        assert.equal(kitKey(opts(next)), kitKey({ ...opts(next), floors: 'X=1', horizon_hours: 5 }), 'floors and horizon are not in the key');
        if (text(before.currencies) !== text(want.currencies)) moved++;
        if (remove) removed++;
        else added++;
        transfers = next;
      }
    }
  }
  assert.ok(added > 150 && removed > 40 && moved > (added + removed) / 2, `${added} ${removed} ${moved}`);
});

test('what the module refuses is not worked out on the page', () => {
  const opts = { now: NOW, horizon_hours: 48 };
  const base = fc.project(DEMO, opts);
  const kit = fc.ruleKit(DEMO, opts);
  const ccy = base.currencies[0].currency, scale = scalesOf(base)[ccy];
  for (const floors of [`${ccy}=-5`, `${ccy}=1.${'1'.repeat(scale + 1)}`, `${ccy}=1,`, `${ccy}==1`, `${ccy}=1e5`, 'ZZZ=1', `${ccy}=100000000000000000000`]) {
    assert.throws(() => fc.project(DEMO, { ...opts, floors }), undefined, floors);
    assert.equal(shiftRule(base, kit, { floors }), null, floors);
  }
  const accounts = accountIds(DEMO.accounts);
  const acct = DEMO.accounts.trim().split('\n')[1].split(',');
  const good = { id: 'whatif-1', from_account_id: acct[0], to_account_id: 'whatif-payee-1', currency: acct[2], amount: '10',
    status: 'pending', created_at: NOW, scheduled_for: NOW };
  assert.ok(shiftRule(base, kit, { add: [good], accounts }), 'a good payment is worked out');
  const bad = [{ amount: '0' }, { amount: '-5' }, { amount: `1.${'5'.repeat(13)}` }, { amount: '1e3' }, { scheduled_for: '2025-02-30T00:00:00Z' },
    { scheduled_for: 'tomorrow' }, { to_account_id: acct[0] }];
  for (const change of bad) {
    const t = { ...good, ...change };
    assert.throws(() => fc.project(DEMO, { ...opts, scenario: { transfers: [t] } }), undefined, JSON.stringify(change));
    assert.equal(shiftRule(base, kit, { add: [t], accounts }), null, JSON.stringify(change));
  }
  // Not the page's own kind of payment (both sides unknown: no direction), an
  // ML answer, a kit of another time: the worker answers those.
  assert.equal(shiftRule(base, kit, { add: [{ ...good, from_account_id: 'x', to_account_id: 'y' }], accounts }), null);
  assert.equal(shiftRule({ ...base, method: 'ml' }, kit, { floors: `${ccy}=1` }), null);
  assert.equal(shiftRule(base, { ...kit, as_of: '2020-01-01T00:00:00Z' }, { floors: `${ccy}=1` }), null);
});

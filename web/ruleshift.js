// ruleshift.js: a rule what-if worked out on the page from the rule answer on
// screen, in the input's own task. The rule's balance path does not depend on
// the floors, and a scheduled payment added to (or removed from) the scenario
// moves it by one step from the payment's hour; what depends on the floor
// (the breach hour, the probabilities, the risk, the drivers) and the
// recommendations are then worked out here with the core's own rules
// (core/src/treasury/projection.c, drivers.c), in integer minor units
// (BigInt), the doubles the answer holds formed and printed as the core
// forms and prints them, so that the answer equals the module's byte for
// byte (tests/wasm/ruleshift_test.mjs checks it on random floors and
// payments, the page test that the worker's answers agree). What the core
// reads besides the answer (the pending outflows and the streams that drain)
// is the rule kit the worker sends with its answers (projection.h,
// fc_projection_write_rule_kit). Whenever the page cannot be sure of the
// module's answer (a currency it does not hold, an amount it would refuse,
// a balance too large for the answer's doubles to carry exactly, anything
// but the page's own payments) shiftRule answers null and the worker is
// asked, as before. No DOM here: node runs it in the tests.

const INT64_MAX = (1n << 63n) - 1n;
const SAFE = 1n << 50n; // |minor units| below which the answer's doubles give them back exactly
const MONEY_ABS_MAX = 100000000000000000n; // FC_MONEY_ABS_MAX
const SCALE_MAX = 12;
const DEPLETION_HOURS = [24, 48, 72, 96];
const DRIVERS_KEEP = 16, DRIVERS_MAX = 5;
const LEAD_HOURS = 12, RISK_MEDIUM = 0.1, RISK_HIGH = 0.5; // fc_projection_defaults
const FX = [['USD', 'USDC', 1], ['USD', 'USDT', 1], ['EUR', 'EURC', 1]]; // the default pegs
const pow10 = (n) => 10n ** BigInt(n);

// fc_money_parse: decimal text at a scale, or null where the core refuses it.
export function parseMoney(text, scale) {
  const m = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(String(text));
  if (!m) return null;
  const frac = m[3] || '';
  if (/[1-9]/.test(frac.slice(scale))) return null; // more decimals than the scale
  const v = BigInt(m[2] + frac.slice(0, scale).padEnd(scale, '0'));
  // The core checks the limit as it reads the digits: every prefix is smaller than the whole.
  if (v > MONEY_ABS_MAX) return null;
  return m[1] === '-' ? -v : v;
}

// fc_money_format.
export function formatMoney(v, scale) {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
  const s = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${s}` : s;
}

// fc_money_to_double: whole units converted exactly before the fraction is added.
function moneyToDouble(v, scale) {
  const p = pow10(scale);
  return Number(v / p) + Number(v % p) / Number(p);
}

// fc_buf_json_fixed ("%.*f", exact ties to even as printf rounds them, no
// "-0"), read back as JSON.parse reads it.
export function fixedText(x, d) {
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let s = a.toFixed(d);
  // An exact tie (a has at most d + 1 binary fraction digits, its last
  // decimal a 5): toFixed rounds it up, printf to the even neighbour.
  const t = a * 2 ** (d + 1);
  if (Number.isInteger(t) && a < 1e21) {
    const longer = a.toFixed(d + 1);
    if (longer.endsWith('5')) {
      const down = longer.slice(0, d === 0 ? -2 : -1);
      const last = Number(down.replace('.', '').slice(-1));
      if (last % 2 === 0) s = down;
    }
  }
  return neg && /[1-9]/.test(s) ? `-${s}` : s;
}
const fixed = (x, d) => Number(fixedText(x, d));

// fc_time_format, from epoch seconds.
const iso = (sec) => new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

// An ISO time the page writes ("YYYY-MM-DDTHH:MM:SSZ") as epoch seconds, or null.
function parseTime(text) {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(String(text))) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) && iso(ms / 1000) === text ? ms / 1000 : null;
}

const clamp64 = (v) => (v > INT64_MAX ? INT64_MAX : v < -INT64_MAX - 1n ? -INT64_MAX - 1n : v);
const LIMIT = 1n << 58n; // sums of a few figures below it stay far inside int64, as the core's checked sums do
const fits = (v) => v !== null && v < LIMIT && v > -LIMIT;

// The exact minor units of a figure the answer printed at the scale (a
// double read back), or null when they may not be exact.
function minorOf(x, scale) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return null;
  const v = parseMoney(x.toFixed(scale), scale);
  return v !== null && v < SAFE && v > -SAFE ? v : null;
}

// ---- floors: check_floors and floor_for ----------------------------------------

// The floors spec as the core reads it: {code: minor units} for the
// currencies given, or null when the core would refuse it or name a
// currency the page does not hold (the worker then answers).
export function floorsFor(spec, scales) {
  const out = Object.fromEntries(Object.keys(scales).map((c) => [c, 0n]));
  if (spec === undefined || spec === null || spec === '') return out;
  const items = [];
  for (const item of String(spec).split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) return null;
    const code = item.slice(0, eq), v = item.slice(eq + 1);
    if (code !== '*' && scales[code] === undefined) return null;
    const scale = code === '*' ? Math.min((v.split('.')[1] ?? '').length, SCALE_MAX) : scales[code];
    const val = parseMoney(v, scale);
    if (val === null || val < 0n) return null;
    items.push([code, v]);
  }
  // floor_for: the items in order, each '*' and the currency's own read at
  // its scale (a refusal anywhere fails the projection); the own item ends
  // the search, else the last '*' counts, else 0.
  for (const [ccy, scale] of Object.entries(scales)) {
    for (const [code, v] of items) {
      if (code !== '*' && code !== ccy) continue;
      const val = parseMoney(v, scale);
      if (val === null) return null;
      out[ccy] = val;
      if (code !== '*') break;
    }
  }
  return out;
}

// ---- the kit: drivers --------------------------------------------------------

// fc_stream_drain over `seconds` from now, for a kit stream.
function drain(s, now, seconds) {
  const end = now + seconds;
  if (end <= s.begin) return 0n;
  const prod = BigInt(s.rate_units) * BigInt(end - s.begin);
  const k = s.rate_decimals - s.scale;
  let d;
  if (k >= 0) {
    const div = pow10(k);
    d = prod / div;
    const r = prod % div;
    if (r > div - r || (r === div - r && d % 2n === 1n)) d += 1n; // half-even
  } else {
    d = prod * pow10(-k);
  }
  const left = BigInt(s.remaining);
  return d < left ? d : left;
}

// fc__drivers_add / fc__drivers_finish: the largest DRIVERS_KEEP kept as they
// come (a tie with the smallest kept loses), then sorted, the top five shown.
function driversOf(kit, ccy, scale, now, end) {
  const kept = [];
  let total = 0n;
  const add = (kind, id, amount, at, text) => {
    if (amount <= 0n) return;
    total += amount;
    const d = { kind, id, amount, at, text };
    if (kept.length < DRIVERS_KEEP) {
      kept.push(d);
      return;
    }
    let m = 0;
    for (let i = 1; i < kept.length; i++) if (kept[i].amount < kept[m].amount) m = i;
    if (kept[m].amount >= amount) return;
    kept[m] = d;
  };
  for (const t of kit.transfers) {
    if (t.currency === ccy && t.at <= end) add('scheduled_transfer', t.id, BigInt(t.amount), t.at, t.text);
  }
  const hours = (end - now) / 3600;
  for (const s of kit.streams) {
    if (s.currency !== ccy) continue;
    const d = drain(s, now, end - now);
    if (d <= 0n) continue;
    const dry = s.dry_hours !== null && hours >= s.dry_hours ? ` and runs dry after ${s.dry_text} h` : '';
    add('stream', s.id, d, null, `stream ${s.name} drains ${formatMoney(d, scale)} ${ccy}${dry}`);
  }
  if (total > INT64_MAX) return null;
  kept.sort((a, b) => (a.amount !== b.amount ? (a.amount > b.amount ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // qsort is not stable: two candidates alike in amount and id could come in either order.
  for (let i = 1; i < kept.length; i++) if (kept[i].amount === kept[i - 1].amount && kept[i].id === kept[i - 1].id) return null;
  return kept.slice(0, DRIVERS_MAX).map((d) => ({ kind: d.kind, id: d.id, amount: formatMoney(d.amount, scale),
    at: d.at === null ? null : iso(d.at), share: fixed(Number(d.amount) / Number(total), 3), text: d.text }));
}

// ---- depletion and recommendations -----------------------------------------------

const DEPLETION_KEYS = 'floor,probability,expected_at,risk,probability_raw,time_to_breach_hours,drivers';

// A currency's depletion for its floor (project_currency's second half).
function depletionOf(w, kit, now, H) {
  let k = 0;
  for (let j = 1; j <= H; j++) if (w.bal[j] < w.floor) { k = j; break; }
  const expected = k ? now + k * 3600 : null;
  const probability = {};
  for (const h of DEPLETION_HOURS) probability[`${h}h`] = h > H ? null : expected !== null && expected <= now + h * 3600 ? 1 : 0;
  const p48 = H >= 48 ? probability['48h'] : expected !== null ? 1 : 0;
  const drivers = driversOf(kit, w.ccy, w.scale, now, expected ?? now + H * 3600);
  if (!drivers) return null;
  const hours = expected === null ? null : k;
  w.expected = expected;
  return { floor: formatMoney(w.floor, w.scale), probability, expected_at: expected === null ? null : iso(expected),
    risk: p48 >= RISK_HIGH ? 'high' : p48 >= RISK_MEDIUM ? 'medium' : 'low', probability_raw: null,
    time_to_breach_hours: { p10: hours, p50: hours, p90: hours }, drivers };
}

function fxRate(from, to) {
  for (const [a, b, r] of FX) {
    if (a === from && b === to) return r;
    if (a === to && b === from) return 1.0 / r;
  }
  return 0;
}

// recommend(): each currency below its floor drawn from the one with the most
// room above its own, a source's room used up as it is handed out.
function recommendationsOf(ws, p) {
  const minBal = (w) => w.bal.reduce((a, b) => (b < a ? b : a));
  const surplus = ws.map((w) => clamp64(minBal(w) - w.floor));
  const recs = [];
  const asOf = Date.parse(p.as_of) / 1000;
  ws.forEach((c, i) => {
    if (c.expected === null) return;
    const unit = 100n * pow10(c.scale);
    const shortfall = clamp64(c.floor - minBal(c));
    const gross = clamp64(c.scheduledOut + c.streamDrain);
    const v = clamp64(shortfall + gross / 10n);
    const q = v / unit + (v % unit !== 0n ? 1n : 0n);
    const need = q > INT64_MAX / unit ? INT64_MAX : q * unit;
    let best = -1, bestCover = 0;
    ws.forEach((s, j) => {
      if (j === i || surplus[j] <= 0n) return;
      const rate = fxRate(s.ccy, c.ccy);
      if (rate <= 0) return;
      const cover = moneyToDouble(surplus[j], s.scale) * rate;
      if (cover > bestCover) [bestCover, best] = [cover, j];
    });
    if (best < 0) return;
    const s = ws[best];
    const rate = fxRate(s.ccy, c.ccy);
    const x = Math.ceil(moneyToDouble(need, c.scale) / rate * Number(pow10(s.scale)));
    let amount = x < 9.0e18 ? BigInt(x) : INT64_MAX;
    const full = amount <= surplus[best];
    if (!full) amount = surplus[best];
    surplus[best] -= amount;
    const byRaw = c.expected - LEAD_HOURS * 3600;
    const by = Math.floor(byRaw / 3600) * 3600;
    const fl = formatMoney(c.floor, c.scale), sh = formatMoney(shortfall, c.scale), when = iso(c.expected);
    const reason = full
      ? `P(${c.ccy} below floor within ${p.horizon_hours}h) falls from 1.00 to 0.00: it would fall below ${fl} at ${when} (shortfall ${sh})`
      : `P(${c.ccy} below floor within ${p.horizon_hours}h) stays 1.00 with partial cover: it falls below ${fl} at ${when} (shortfall ${sh}) and no single currency can cover it`;
    recs.push({ from_currency: s.ccy, to_currency: c.ccy, amount: formatMoney(amount, s.scale), by: iso(by < asOf ? asOf : by),
      reason: reason.slice(0, 255), probability_before: 1, probability_after: full ? 0 : 1, target_probability: null });
  });
  return recs;
}

// ---- payments --------------------------------------------------------------------

const PAYMENT_KEYS = new Set(['id', 'from_account_id', 'to_account_id', 'currency', 'amount', 'status', 'created_at', 'scheduled_for']);

// A payment of the page's what-if form as the core reads it ({ccy, amount,
// at, dir: -1 out, +1 in}), or null when the page cannot be sure it would.
function paymentOf(t, scales, accounts) {
  if (!t || typeof t !== 'object' || Object.keys(t).some((k) => !PAYMENT_KEYS.has(k))) return null;
  for (const k of PAYMENT_KEYS) if (typeof t[k] !== 'string' || !t[k] || !/^[\x20-\x7e]*$/.test(t[k])) return null;
  if (t.status !== 'pending' || t.from_account_id === t.to_account_id || t.id.length > 60) return null;
  const scale = scales[t.currency];
  if (scale === undefined) return null;
  const amount = parseMoney(t.amount, scale), at = parseTime(t.scheduled_for);
  if (amount === null || amount <= 0n || at === null || parseTime(t.created_at) === null) return null;
  const from = accounts.has(t.from_account_id), to = accounts.has(t.to_account_id);
  if (from === to) return null; // no direction: the page's form never makes one
  return { t, ccy: t.currency, scale, amount, at, dir: from ? -1 : 1 };
}

// What a rule kit depends on among a projection's options: the data aside
// (the page and the worker forget their kits when it changes), its time, its
// scenario and its currency scales; not the floors, the horizon or the method.
export const kitKey = (o) => JSON.stringify([o.now ?? null, o.scenario ?? null, o.currencies ?? null, o.tenant_id ?? null]);

// ---- the answer ------------------------------------------------------------------

// A currency of the answer as exact figures to work on (minor units), or null.
function workingOf(c, H, scale, floor) {
  if (c.path.length !== H + 1 || Object.keys(c.depletion).join() !== DEPLETION_KEYS) return null;
  const bal = c.path.map((q) => minorOf(q.p50, scale));
  if (bal.some((v) => v === null) || bal[H] !== parseMoney(c.rule.projected_balance, scale)) return null;
  const w = { c, ccy: c.currency, scale, bal, floor, moved: new Set(), expected: null,
    out: c.path.map((q) => q.scheduled_out), in: c.path.map((q) => q.scheduled_in),
    scheduledOut: parseMoney(c.rule.scheduled_outflows, scale), scheduledIn: parseMoney(c.rule.scheduled_inflows, scale),
    streamDrain: parseMoney(c.rule.stream_drain, scale) };
  return [w.scheduledOut, w.scheduledIn, w.streamDrain, parseMoney(c.current_balance, scale)].every(fits) ? w : null;
}

// A payment added (sign 1n) or removed (-1n): its currency's path moves from
// its hour on (bucket_transfers: hour k holds (now+(k-1)h, now+kh], hour 1
// also now itself). Returns false when the page cannot follow it exactly.
function applyPayment(w, pay, sign, now, H) {
  if (pay.at < now || pay.at > now + H * 3600) return true;
  const k = pay.at - now <= 0 ? 1 : Math.ceil((pay.at - now) / 3600);
  const v = sign * pay.amount;
  const hourly = pay.dir < 0 ? w.out : w.in;
  const before = minorOf(hourly[k] ?? 0, pay.scale);
  if (before === null || (sign < 0n && before < pay.amount)) return false;
  hourly[k] = moneyToDouble(before + v, pay.scale);
  if (pay.dir < 0) w.scheduledOut += v;
  else w.scheduledIn += v;
  for (let j = k; j <= H; j++) w.bal[j] += pay.dir < 0 ? -v : v;
  w.moved.add(k);
  return fits(w.scheduledOut) && fits(w.scheduledIn) && w.bal.every(fits);
}

// The kit's pending outflows with a payment added or removed (the core puts
// a scenario's transfers after the data's, in the scenario's order).
function kitTransfers(transfers, pay, sign, now) {
  if (pay.dir > 0 || pay.at < now) return transfers;
  const { t } = pay;
  if (sign < 0n) return transfers.filter((x) => !(x.id === t.id && x.currency === pay.ccy));
  return [...transfers, { currency: pay.ccy, id: t.id, amount: String(pay.amount), at: pay.at,
    text: `scheduled transfer ${t.id} of ${formatMoney(pay.amount, pay.scale)} ${pay.ccy} at ${iso(pay.at)}` }];
}

// A currency's object in the new answer: the old one itself when nothing in it changed.
function currencyAfter(w, depletion, H) {
  const c = w.c;
  if (!w.moved.size) return JSON.stringify(depletion) === JSON.stringify(c.depletion) ? c : { ...c, depletion };
  const first = Math.min(...w.moved);
  const path = c.path.map((q, k) => {
    if (k < first) return q;
    const b = fixed(moneyToDouble(w.bal[k], w.scale), w.scale);
    return { ...q, p10: b, p50: b, p90: b,
      scheduled_out: w.moved.has(k) ? fixed(w.out[k], w.scale) : q.scheduled_out,
      scheduled_in: w.moved.has(k) ? fixed(w.in[k], w.scale) : q.scheduled_in, p2_5: b, p97_5: b };
  });
  const rule = { ...c.rule, scheduled_outflows: formatMoney(w.scheduledOut, w.scale),
    scheduled_inflows: formatMoney(w.scheduledIn, w.scale), projected_balance: formatMoney(w.bal[H], w.scale) };
  return { ...c, rule, path, depletion };
}

// The rule answer p (parsed) with its kit, moved to other floors and/or with
// payments added to or removed from its scenario: {p, kit} (the new answer,
// and the kit of its scenario), or null (ask the worker).
//   change: {floors: the floors option (undefined: none), add: [transfer],
//            remove: [transfer], accounts: Set of the tenant's account ids}
export function shiftRule(p, kit, change) {
  if (!p || p.method !== 'rule' || !kit || kit.as_of !== p.as_of) return null;
  const now = Date.parse(p.as_of) / 1000, H = p.horizon_hours;
  if (!Number.isInteger(now) || !Number.isInteger(H)) return null;
  const scales = Object.fromEntries(p.currencies.map((c) => [c.currency, (c.current_balance.split('.')[1] || '').length]));
  const floors = floorsFor(change.floors, scales);
  if (!floors) return null;
  const ws = p.currencies.map((c) => workingOf(c, H, scales[c.currency], floors[c.currency]));
  if (ws.some((w) => !w)) return null;
  let transfers = kit.transfers;
  for (const [list, sign] of [[change.add || [], 1n], [change.remove || [], -1n]]) {
    for (const t of list) {
      const pay = paymentOf(t, scales, change.accounts || new Set());
      if (!pay || !applyPayment(ws.find((x) => x.ccy === pay.ccy), pay, sign, now, H)) return null;
      transfers = kitTransfers(transfers, pay, sign, now);
    }
  }
  const newKit = transfers === kit.transfers ? kit : { ...kit, transfers };
  const currencies = [];
  for (const w of ws) {
    const depletion = depletionOf(w, newKit, now, H);
    if (!depletion) return null;
    currencies.push(currencyAfter(w, depletion, H));
  }
  const recommendations = recommendationsOf(ws, p);
  const same = JSON.stringify(recommendations) === JSON.stringify(p.recommendations);
  return { p: { ...p, currencies, recommendations: same ? p.recommendations : recommendations }, kit: newKit };
}

// app.js: the Treasury page. Loads the WASM module, reads the three CSVs
// (or the demo tenant the module generates), and recomputes the projection
// -- the rule's, or with method "ml" the rule plus predicted flows and their
// band -- on every change of data, `now`, horizon, floors, method or what-if
// scenario. Everything runs in the browser; nothing is fetched but the
// module itself.
import init from './floatcast.mjs';

const $ = (id) => document.getElementById(id);
const state = {
  data: { accounts: null, transfers: null, streams: null }, source: '', sort: { key: 'hours', dir: 1 }, streams: [],
  // The what-if scenario (core/include/fc/whatif.h): payments added, transfers cancelled, streams paused.
  scenario: { transfers: [], cancel: [], pause: new Set() },
  baseline: null,
};
let fc = null;

const RISK_TEXT = { low: 'Low risk', medium: 'Medium risk', high: 'High risk' };

// ---- formatting ----------------------------------------------------------

// Money arrives as exact decimal text; the page shows 2 decimals grouped.
function money(text, ccy) {
  const v = Number(text);
  const s = v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return ccy ? `${s} ${ccy}` : s;
}

// A flow with its direction sign; zero is shown unsigned.
function flow(sign, text) {
  return Number(text) === 0 ? money(text) : `${sign}${money(text)}`;
}

function compact(v) {
  return Math.abs(v) >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : Math.abs(v) >= 1e3 ? `${(v / 1e3).toFixed(1)}k` : v.toFixed(0);
}

function shortTime(iso) {
  return iso ? iso.replace('T', ' ').replace(/:00Z$/, ' UTC') : '—';
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

// ---- errors --------------------------------------------------------------

function showError(e) {
  const box = $('error');
  box.replaceChildren(el('strong', {}, e.code ? `${e.code}: ` : 'Error: '), e.message);
  if (e.rows && e.rows.length > 1) {
    const ul = el('ul');
    for (const r of e.rows) ul.append(el('li', {}, r.message));
    box.append(ul);
  }
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
}

// ---- chart ---------------------------------------------------------------

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

// The hourly balance path with the floor as a dashed line; points below
// the floor are drawn in the risk colour.
function chart(cur) {
  const W = 320, H = 96, P = 4;
  const ys = cur.path.map((p) => p.p50);
  const lows = cur.path.map((p) => p.p10), highs = cur.path.map((p) => p.p90);
  const banded = cur.path.some((p) => p.p10 !== p.p90);
  const floor = Number(cur.depletion.floor);
  const lo = Math.min(...ys, ...lows, floor), hi = Math.max(...ys, ...highs, floor);
  const span = hi - lo || Math.abs(hi) || 1;
  const x = (i) => P + (i / Math.max(1, ys.length - 1)) * (W - 2 * P);
  const y = (v) => P + (1 - (v - lo) / span) * (H - 2 * P);
  const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
    'aria-label': `${cur.currency} balance over ${ys.length - 1} hours` });
  const pts = ys.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  if (banded) {
    // The ML projection's p10-p90 band around the p50 path.
    const up = highs.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    const down = lows.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).reverse();
    s.append(svg('polygon', { points: [...up, ...down].join(' '), class: 'band' }));
  } else {
    s.append(svg('polygon', { points: `${x(0)},${H - P} ${pts.join(' ')} ${x(ys.length - 1)},${H - P}`, class: 'area' }));
  }
  s.append(svg('line', { x1: P, x2: W - P, y1: y(floor), y2: y(floor), class: 'floor' }));
  s.append(svg('polyline', { points: pts.join(' '), class: 'line' }));
  const below = ys.findIndex((v) => v < floor);
  if (below >= 0) s.append(svg('circle', { cx: x(below), cy: y(ys[below]), r: 3.5, class: 'breach' }));
  return s;
}

// ---- rendering -----------------------------------------------------------

function stat(label, value, cls = '') {
  return el('div', { class: `stat ${cls}` }, el('span', { class: 'label' }, label), el('span', { class: 'value' }, value));
}

function card(cur, horizon) {
  const r = cur.rule;
  // Red only when the projection ends below the floor, not for any decrease.
  const below = Number(r.projected_balance) < Number(cur.depletion.floor);
  const ml = cur.path.some((pt) => pt.p10 !== pt.p90);
  const risk = cur.depletion.risk;
  const p48 = cur.depletion.probability['48h'];
  const head = el('div', { class: 'card-head' },
    el('span', { class: 'ccy' }, cur.currency),
    el('span', { class: `badge risk-${risk}`, title: p48 === null ? '' : `P(below floor within 48 h) = ${p48}` }, RISK_TEXT[risk] || risk));
  const body = el('div', { class: 'balances' },
    stat('Current balance', money(cur.current_balance), 'big'),
    ml
      ? stat(`Projected p50 in ${horizon} h`, money(String(cur.path[cur.path.length - 1].p50)),
        `big ${cur.path[cur.path.length - 1].p50 < Number(cur.depletion.floor) ? 'down' : ''}`)
      : stat(`Projected in ${horizon} h`, money(r.projected_balance), `big ${below ? 'down' : ''}`));
  const base = state.baseline && state.baseline.currencies.find((c) => c.currency === cur.currency);
  const diff = base ? Number(r.projected_balance) - Number(base.rule.projected_balance) : 0;
  if (base && Math.abs(diff) > 0) {
    body.append(el('div', { class: `vs ${diff < 0 ? 'down' : 'up'}` },
      `${diff < 0 ? '−' : '+'}${money(String(Math.abs(diff)))} vs baseline (${money(base.rule.projected_balance)})`));
  }
  const flows = el('div', { class: 'flows' },
    stat('Scheduled outflows', flow('−', r.scheduled_outflows)),
    stat('Scheduled inflows', flow('+', r.scheduled_inflows ?? '0')),
    stat('Stream drain', flow('−', r.stream_drain)),
    stat('Floor', money(cur.depletion.floor)));
  const ys = cur.path.map((p) => p.p50);
  const axis = el('div', { class: 'axis' }, el('span', {}, 'now'),
    el('span', {}, `min ${compact(Math.min(...ys))} · max ${compact(Math.max(...ys))}`), el('span', {}, `+${horizon} h`));
  const last = cur.path[cur.path.length - 1];
  if (ml) {
    const bt = cur.model && cur.model.backtest;
    flows.append(stat('p10 – p90 at +' + horizon + ' h', `${money(String(last.p10))} – ${money(String(last.p90))}`, 'wide'));
    flows.append(stat('Model', `${cur.model.name}${bt && bt.coverage_80 !== null ? ` · backtest 80% band covered ${(bt.coverage_80 * 100).toFixed(0)}%` : ''}`, 'wide'));
  }
  const foot = cur.depletion.expected_at
    ? el('div', { class: 'depletion warn' }, `Falls below floor at ${shortTime(cur.depletion.expected_at)}`
      + (p48 !== null && p48 > 0 && p48 < 1 ? ` · P(48 h) ${(p48 * 100).toFixed(0)}%` : ''))
    : el('div', { class: 'depletion' }, `Stays above floor for ${horizon} h`);
  return el('article', { class: `card risk-${risk}`, 'data-currency': cur.currency }, head, body, chart(cur), axis, flows, foot);
}

function renderCards(p) {
  const cards = $('cards');
  cards.replaceChildren(...p.currencies.map((c) => card(c, p.horizon_hours)));
  cards.setAttribute('data-ready', '1');
  $('asof').textContent = `as of ${shortTime(p.as_of)} · tenant ${p.tenant_id}`;
  renderRecommendations(p);
}

function renderRecommendations(p) {
  const items = p.recommendations.map((r) => el('li', { class: 'rec' },
    el('strong', {}, `Move ${money(r.amount)} ${r.from_currency} → ${r.to_currency}`),
    el('span', { class: 'by' }, ` by ${shortTime(r.by)}`),
    el('div', { class: 'reason' }, r.reason)));
  $('recs').replaceChildren(...(items.length ? items
    : [el('li', { class: 'rec none' }, 'No move needed: every currency stays above its floor over the horizon.')]));
}

const STATUS_ORDER = { critical: 0, warning: 1, healthy: 2, paused: 3, cancelled: 4 };
function sortValue(s, key) {
  switch (key) {
    case 'remaining': return Number(s.remaining);
    case 'hours': return s.hours_until_depleted ?? Infinity;
    case 'status': return STATUS_ORDER[s.runway_status] ?? 9;
    default: return s[key];
  }
}

function renderRunway() {
  const { key, dir } = state.sort;
  const rows = [...state.streams].sort((a, b) => {
    const x = sortValue(a, key), y = sortValue(b, key);
    return (x < y ? -1 : x > y ? 1 : 0) * dir || (a.id < b.id ? -1 : 1);
  });
  $('runway').querySelector('tbody').replaceChildren(...rows.map((s) => el('tr', { class: `st-${s.runway_status}` },
    el('td', { class: 'mono' }, s.id),
    el('td', {}, s.currency),
    el('td', { class: 'num' }, money(s.remaining)),
    el('td', { class: 'num' }, s.hours_until_depleted === null ? '∞' : s.hours_until_depleted.toFixed(1)),
    el('td', {}, el('span', { class: `pill st-${s.runway_status}` }, s.runway_status)),
    el('td', {}, pauseBox(s)))));
  for (const th of $('runway').querySelectorAll('th')) {
    th.classList.toggle('sorted', th.dataset.key === key);
    th.dataset.dir = th.dataset.key === key ? (dir > 0 ? 'asc' : 'desc') : '';
  }
}

function pauseBox(s) {
  const box = el('input', { type: 'checkbox', 'data-stream': s.id, 'aria-label': `pause ${s.id} in the scenario` });
  box.checked = state.scenario.pause.has(s.id);
  // Only active streams can be paused; a paused one can be kept paused by the scenario.
  box.disabled = !box.checked && s.runway_status !== 'critical' && s.runway_status !== 'warning'
    && s.runway_status !== 'healthy';
  box.addEventListener('change', () => {
    changeScenario((sc) => (box.checked ? sc.pause.add(s.id) : sc.pause.delete(s.id)));
  });
  return box;
}

// ---- what-if -------------------------------------------------------------

// Account ids and currencies from the accounts CSV (for the scenario form).
function accountsOf(csv) {
  if (typeof csv !== 'string' || csv.trim().startsWith('[') || csv.trim().startsWith('{')) return [];
  const lines = csv.trim().split(/\r?\n/);
  const head = lines[0].split(',').map((h) => h.trim().toLowerCase());
  const id = head.indexOf('id'), ccy = head.indexOf('currency');
  if (id < 0 || ccy < 0) return [];
  return lines.slice(1).map((l) => l.split(',')).filter((f) => f.length > Math.max(id, ccy))
    .map((f) => ({ id: f[id], currency: f[ccy] }));
}

function fillAccounts() {
  const accts = accountsOf(state.data.accounts);
  $('wi-account').replaceChildren(...accts.map((a) => el('option', { value: `${a.id}|${a.currency}` }, `${a.id} (${a.currency})`)));
}

function scenarioActive() {
  const sc = state.scenario;
  return sc.transfers.length > 0 || sc.cancel.length > 0 || sc.pause.size > 0;
}

function scenarioObject() {
  const sc = state.scenario;
  const o = {};
  if (sc.transfers.length) o.transfers = sc.transfers;
  if (sc.cancel.length) o.cancel_transfers = sc.cancel;
  if (sc.pause.size) o.pause_streams = [...sc.pause];
  return o;
}

function renderScenario() {
  const sc = state.scenario;
  const items = [
    ...sc.transfers.map((t, i) => ({ text: `${t.from_account_id.startsWith('whatif-') ? 'Receipt' : 'Payment'} `
      + `${money(t.amount)} ${t.currency} ${t.from_account_id.startsWith('whatif-') ? 'into' : 'from'} `
      + `${t.from_account_id.startsWith('whatif-') ? t.to_account_id : t.from_account_id} at ${shortTime(t.scheduled_for)}`,
      drop: () => sc.transfers.splice(i, 1) })),
    ...sc.cancel.map((id, i) => ({ text: `Cancel pending transfer ${id}`, drop: () => sc.cancel.splice(i, 1) })),
    ...[...sc.pause].map((id) => ({ text: `Pause stream ${id}`, drop: () => sc.pause.delete(id) })),
  ];
  $('wi-list').replaceChildren(...items.map((it) => {
    const x = el('button', { type: 'button', class: 'ghost small', 'aria-label': 'remove' }, 'remove');
    x.addEventListener('click', () => changeScenario(() => it.drop()));
    return el('li', {}, it.text, ' ', x);
  }));
}

let whatifSeq = 0;
function addPayment() {
  const [account, currency] = ($('wi-account').value || '|').split('|');
  const when = $('wi-when').value;
  if (!account) return showError(new Error('What-if: load data with accounts first.'));
  if (!when) return showError(new Error('What-if: set when the payment happens.'));
  const at = `${when.length === 16 ? `${when}:00` : when}Z`;
  const out = $('wi-dir').value === 'out';
  const id = `whatif-${++whatifSeq}`;
  changeScenario((sc) => sc.transfers.push({
    id, from_account_id: out ? account : `whatif-payer-${whatifSeq}`, to_account_id: out ? `whatif-payee-${whatifSeq}` : account,
    currency, amount: $('wi-amount').value.trim(), status: 'pending', created_at: nowIso() || at, scheduled_for: at,
  }));
}

// ---- computing -----------------------------------------------------------

function nowIso() {
  const v = $('now').value; // "YYYY-MM-DDTHH:MM" in UTC
  return v ? `${v.length === 16 ? `${v}:00` : v}Z` : null;
}

function setNow(iso) {
  $('now').value = iso.slice(0, 16);
}

// The rule projects in milliseconds on every keystroke; the ML projection
// trains its models (seconds), so it waits for typing to pause.
let mlTimer = null;
function schedule() {
  clearTimeout(mlTimer);
  if ($('method').value !== 'ml') return recompute();
  $('meta').textContent = 'ML projection: training the cash-flow models…';
  mlTimer = setTimeout(recompute, 400);
  return null;
}

function recompute() {
  if (!fc || !state.data.accounts) return;
  const horizon = Number($('horizon').value);
  const opts = { now: nowIso(), horizon_hours: horizon, method: $('method').value };
  const floors = $('floors').value.trim();
  if (floors) opts.floors = floors;
  try {
    if (!opts.now) throw Object.assign(new Error('Set "Now (UTC)" to project from.'), { code: 'EINVAL' });
    const t0 = performance.now();
    state.baseline = null;
    let p;
    if (scenarioActive()) {
      state.baseline = fc.project(state.data, opts);
      p = fc.project(state.data, { ...opts, scenario: scenarioObject() });
    } else {
      p = fc.project(state.data, opts);
    }
    const ms = performance.now() - t0;
    renderScenario();
    clearError();
    renderCards(p);
    state.streams = p.currencies.flatMap((c) => c.streams.map((s) => ({ ...s, currency: c.currency })));
    renderRunway();
    $('meta').textContent = `floatcast ${fc.version()} · WASM · ${p.method} projection in ${ms.toFixed(1)} ms`;
    return null;
  } catch (e) {
    showError(e);
    return e;
  }
}

// Applies a change to the scenario; one the core refuses (an amount typo, an
// unknown transfer id) is undone so the page keeps showing the last good
// scenario, and its message stays on screen.
function changeScenario(fn) {
  const sc = state.scenario;
  const prev = { transfers: [...sc.transfers], cancel: [...sc.cancel], pause: new Set(sc.pause) };
  fn(sc);
  const e = recompute();
  if (e && scenarioActive()) {
    state.scenario = prev;
    recompute();
    showError(e);
  }
}

async function readFile(input, kind) {
  const f = input.files[0];
  if (!f) return;
  state.data[kind] = await f.text();
  state.source = 'files';
  if (kind === 'accounts') fillAccounts();
  const loaded = Object.entries(state.data).filter(([, v]) => v !== null).map(([k]) => k);
  $('source').textContent = `Loaded from files: ${loaded.join(', ')}.`
    + (state.data.accounts ? '' : ' Accounts are needed to project.');
  recompute();
}

function loadDemo() {
  try {
    const d = fc.demo({ seed: 42 });
    state.data = { accounts: d.accounts, transfers: d.transfers, streams: d.streams };
    for (const k of ['accounts', 'transfers', 'streams']) $(`f-${k}`).value = '';
    const n = (csv) => csv.trim().split('\n').length - 1;
    $('source').textContent = `Demo tenant "${d.tenant_id}" (seed ${d.seed}): ${n(d.accounts)} accounts, `
      + `${n(d.transfers)} transfers, ${n(d.streams)} streams, history to ${shortTime(d.now)}.`;
    setNow(d.now);
    $('wi-when').value = new Date(Date.parse(d.now) + 24 * 3600e3).toISOString().slice(0, 16);
    state.scenario = { transfers: [], cancel: [], pause: new Set() };
    fillAccounts();
    recompute();
  } catch (e) {
    showError(e);
  }
}

function wire() {
  for (const k of ['accounts', 'transfers', 'streams']) $(`f-${k}`).addEventListener('change', (ev) => readFile(ev.target, k));
  $('demo').addEventListener('click', loadDemo);
  $('wi-add').addEventListener('click', addPayment);
  $('method').addEventListener('change', schedule);
  $('wi-cancel').addEventListener('click', () => {
    const id = $('wi-cancel-id').value.trim();
    if (id && !state.scenario.cancel.includes(id)) changeScenario((sc) => sc.cancel.push(id));
  });
  $('wi-reset').addEventListener('click', () => {
    state.scenario = { transfers: [], cancel: [], pause: new Set() };
    recompute();
  });
  $('now').addEventListener('input', schedule);
  $('floors').addEventListener('input', schedule);
  $('horizon').addEventListener('input', () => {
    $('horizon-range').value = $('horizon').value;
    schedule();
  });
  $('horizon-range').addEventListener('input', () => {
    $('horizon').value = $('horizon-range').value;
    schedule();
  });
  for (const th of $('runway').querySelectorAll('th[data-key]')) {
    th.addEventListener('click', () => {
      const key = th.dataset.key;
      state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
      renderRunway();
    });
  }
}

try {
  fc = await init();
  $('meta').textContent = `floatcast ${fc.version()} · WASM ready`;
  setNow(new Date(Math.floor(Date.now() / 3600e3) * 3600e3).toISOString());
  wire();
  document.body.setAttribute('data-module', 'ready');
} catch (e) {
  $('meta').textContent = 'Module failed to load';
  showError(e);
}

// app.js: the Treasury page. Loads the WASM module, reads the three CSVs
// (or the demo tenant the module generates), and recomputes the rule
// projection on every change of data, `now`, horizon or floors. Everything
// runs in the browser; nothing is fetched but the module itself.
import init from './floatcast.mjs';

const $ = (id) => document.getElementById(id);
const state = { data: { accounts: null, transfers: null, streams: null }, source: '', sort: { key: 'hours', dir: 1 }, streams: [] };
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
  const floor = Number(cur.depletion.floor);
  const lo = Math.min(...ys, floor), hi = Math.max(...ys, floor);
  const span = hi - lo || Math.abs(hi) || 1;
  const x = (i) => P + (i / Math.max(1, ys.length - 1)) * (W - 2 * P);
  const y = (v) => P + (1 - (v - lo) / span) * (H - 2 * P);
  const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
    'aria-label': `${cur.currency} balance over ${ys.length - 1} hours` });
  const pts = ys.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  s.append(svg('polygon', { points: `${x(0)},${H - P} ${pts.join(' ')} ${x(ys.length - 1)},${H - P}`, class: 'area' }));
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
  const risk = cur.depletion.risk;
  const p48 = cur.depletion.probability['48h'];
  const head = el('div', { class: 'card-head' },
    el('span', { class: 'ccy' }, cur.currency),
    el('span', { class: `badge risk-${risk}`, title: p48 === null ? '' : `P(below floor within 48 h) = ${p48}` }, RISK_TEXT[risk] || risk));
  const body = el('div', { class: 'balances' },
    stat('Current balance', money(cur.current_balance), 'big'),
    stat(`Projected in ${horizon} h`, money(r.projected_balance), `big ${below ? 'down' : ''}`));
  const flows = el('div', { class: 'flows' },
    stat('Scheduled outflows', flow('−', r.scheduled_outflows)),
    stat('Scheduled inflows', flow('+', r.scheduled_inflows ?? '0')),
    stat('Stream drain', flow('−', r.stream_drain)),
    stat('Floor', money(cur.depletion.floor)));
  const ys = cur.path.map((p) => p.p50);
  const axis = el('div', { class: 'axis' }, el('span', {}, 'now'),
    el('span', {}, `min ${compact(Math.min(...ys))} · max ${compact(Math.max(...ys))}`), el('span', {}, `+${horizon} h`));
  const foot = cur.depletion.expected_at
    ? el('div', { class: 'depletion warn' }, `Falls below floor at ${shortTime(cur.depletion.expected_at)}`)
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
    el('td', {}, el('span', { class: `pill st-${s.runway_status}` }, s.runway_status)))));
  for (const th of $('runway').querySelectorAll('th')) {
    th.classList.toggle('sorted', th.dataset.key === key);
    th.dataset.dir = th.dataset.key === key ? (dir > 0 ? 'asc' : 'desc') : '';
  }
}

// ---- computing -----------------------------------------------------------

function nowIso() {
  const v = $('now').value; // "YYYY-MM-DDTHH:MM" in UTC
  return v ? `${v.length === 16 ? `${v}:00` : v}Z` : null;
}

function setNow(iso) {
  $('now').value = iso.slice(0, 16);
}

function recompute() {
  if (!fc || !state.data.accounts) return;
  const horizon = Number($('horizon').value);
  const opts = { now: nowIso(), horizon_hours: horizon };
  const floors = $('floors').value.trim();
  if (floors) opts.floors = floors;
  try {
    if (!opts.now) throw Object.assign(new Error('Set "Now (UTC)" to project from.'), { code: 'EINVAL' });
    const t0 = performance.now();
    const p = fc.project(state.data, opts);
    const ms = performance.now() - t0;
    clearError();
    renderCards(p);
    state.streams = p.currencies.flatMap((c) => c.streams.map((s) => ({ ...s, currency: c.currency })));
    renderRunway();
    $('meta').textContent = `floatcast ${fc.version()} · WASM · projected in ${ms.toFixed(1)} ms`;
  } catch (e) {
    showError(e);
  }
}

async function readFile(input, kind) {
  const f = input.files[0];
  if (!f) return;
  state.data[kind] = await f.text();
  state.source = 'files';
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
    recompute();
  } catch (e) {
    showError(e);
  }
}

function wire() {
  for (const k of ['accounts', 'transfers', 'streams']) $(`f-${k}`).addEventListener('change', (ev) => readFile(ev.target, k));
  $('demo').addEventListener('click', loadDemo);
  $('now').addEventListener('input', recompute);
  $('floors').addEventListener('input', recompute);
  $('horizon').addEventListener('input', () => {
    $('horizon-range').value = $('horizon').value;
    recompute();
  });
  $('horizon-range').addEventListener('input', () => {
    $('horizon').value = $('horizon-range').value;
    recompute();
  });
  for (const th of $('runway').querySelectorAll('th')) {
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

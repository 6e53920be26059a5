// app.js: the Treasury page. Signed in with a partner key (session.js), it
// loads the tenant's snapshot from the gateway; offline it reads the three
// CSVs (or the demo tenant the module generates). It recomputes the projection -- the rule's, or with
// method "ml" the flow simulation's calibrated probabilities, band, time to
// breach and drivers -- on every change of data, `now`, horizon, floors,
// method or what-if scenario. The WASM module runs in a Web Worker
// (worker.js), so the page stays responsive while it computes; a newer input
// supersedes an older computation. Every projection runs in the browser;
// signed in, the only calls are sign-in, the snapshot (and Refresh), the saved
// scenarios, sign-out.
import { fromCanonical, scenarioStore, toCanonical } from './scenarios.js';
import { loadTrack, signIn, signOut } from './session.js';
import { realizedStats, trackView } from './track.js';
import { h, make as makeNode, patch, patchChildren } from './patch.js';
import { compact, el, fmtFull, HOUR, localIso, niceTicks, svg, tickLabel, timeTicks, utcOffset, zoneTitle } from './draw.js';
import { kitKey, shiftRule } from './ruleshift.js';

const $ = (id) => document.getElementById(id);
const state = {
  data: { accounts: null, transfers: null, streams: null }, source: '',
  sort: { key: 'hours', dir: 1 }, streams: [],
  origin: { accounts: null, transfers: null, streams: null }, // 'file' or 'demo' per input
  // The what-if scenario (core/include/fc/whatif.h): payments added, transfers cancelled, streams paused.
  scenario: { transfers: [], cancel: [], pause: new Set() },
  result: null, baseline: null, version: '',
  resultOptions: null, // the options (floors, scenario) of the projection on screen, for the export
  resultSnap: null, // the same as JSON text, taken when drawn (the scenario's arrays change in place later)
  scales: {}, // currency -> decimals, from the answers' decimal strings
  nowTouched: false, // the user set "now" by hand: loading data keeps it
  tenant: null, // the signed-in tenant's id; null offline
  currencies: null, // the snapshot's currency scales ("USD=2,USDC=6"), as project() reads them
  store: scenarioStore(null), // saved scenarios: the gateway's signed in, this browser's offline
  saved: new Map(), // name -> the page's scenario, as last listed
};
// Test hooks (page_test): sign-in to the first projection on screen (every
// card drawn; signin_first: the riskiest card drawn), each projection's time
// from the input to the DOM updated, in ms, and the ML worker's background
// fit after a data load (warmMl).
window.fcTimings = { signin: null, signin_first: null, projections: [], warm: null };
// Test hook: the rule what-ifs worked out on the page (ruleshift.js) and what
// the worker's answers to them said: agreed (the same figures), differed
// (each {key, page, worker} or {key, error}: the worker's answer was drawn),
// unverified (a newer input came first); the kits the page made for a payment
// and the worker's for the same scenario, alike or not.
window.fcLocal = { drawn: 0, agreed: 0, differed: [], unverified: 0, kits_agreed: 0, kits_differed: 0 };
// Test hook: whether a rule what-if to `horizon` (every other input as on
// screen) would be answered on the page from a kept answer (fromKept).
window.fcKeptFor = (horizon) => {
  const o = { ...projectOptions(), horizon_hours: horizon };
  return workers.rule.kept.has(pageKey(o, !!o.scenario));
};

const RISK_TEXT = { low: 'Low risk', medium: 'Medium risk', high: 'High risk' };
const RISK_RANK = { high: 0, medium: 1, low: 2 };

// ---- money: exact decimal text, minor units as BigInt ---------------------

const DECIMAL = /^[+-]?\d+(\.\d+)?$/;
const decimalsOf = (text) => (String(text).split('.')[1] || '').length;

// Decimal text -> BigInt minor units at `scale` (digits beyond it truncated; the core writes exactly scale).
function toMinor(text, scale) {
  let s = String(text).trim();
  const neg = s.startsWith('-');
  s = s.replace(/^[+-]/, '');
  const [i, f = ''] = s.split('.');
  const v = BigInt((i || '0') + (f + '0'.repeat(scale)).slice(0, scale));
  return neg ? -v : v;
}

function fromMinor(v, scale) {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
  const s = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${s}` : s;
}

// A model quantity (a JSON number in currency units) as decimal text at the currency's scale.
const numToDecimal = (x, scale) => Number(x).toFixed(scale);

function scaleOf(ccy, text) {
  if (ccy && state.scales[ccy] !== undefined) return state.scales[ccy];
  return text !== undefined && DECIMAL.test(String(text)) ? decimalsOf(text) : 2;
}

const formats = new Map();
function nf(scale) {
  if (!formats.has(scale)) {
    formats.set(scale, new Intl.NumberFormat('en-US', { minimumFractionDigits: scale, maximumFractionDigits: scale }));
  }
  return formats.get(scale);
}

// Decimal text (exact: Intl formats the string itself) or a number, with the
// currency's decimals and grouping. Text that is not a number is shown as typed.
function amount(v, ccy) {
  const scale = scaleOf(ccy, v);
  if (typeof v === 'number') return nf(scale).format(v);
  const t = String(v).trim();
  if (!DECIMAL.test(t)) return t;
  return nf(scale).format(fromMinor(toMinor(t, scale), scale));
}
const money = (v, ccy) => (ccy ? `${amount(v, ccy)} ${ccy}` : amount(v, ccy));

// A flow with its direction sign; zero is shown unsigned.
function flow(sign, text, ccy) {
  return toMinor(text, scaleOf(ccy, text)) === 0n ? amount(text, ccy) : `${sign}${amount(text, ccy)}`;
}

function shortTime(iso) {
  return iso ? iso.replace('T', ' ').replace(/:00(\.000)?Z$/, ' UTC') : '—';
}

// as_of plus whole hours, as a time.
function hoursLater(asOf, h) {
  return h === null || h === undefined ? null : shortTime(new Date(Date.parse(asOf) + h * 3600e3).toISOString());
}

const pct = (p) => (p === null || p === undefined ? '—' : `${(p * 100).toFixed(p > 0 && p < 0.01 ? 1 : 0)}%`);

// ---- errors in plain language ------------------------------------------------

// The core's errors ("ERANGE", "options: floors: USDC=-5 is negative") as
// sentences a treasurer understands; the core's own text stays in the title.
function plain(e) {
  const msg = String(e.message || e);
  const low = msg.toLowerCase();
  const code = e.code || '';
  const about = low.includes('floor') ? 'floor' : low.includes('horizon') ? 'horizon'
    : low.includes('amount') ? 'amount' : low.includes('scenario') ? 'scenario' : /\bnow\b/.test(low) ? 'now' : '';
  if (!code) return msg; // the page's own sentences
  const tooLarge = low.includes('beyond the largest') || low.includes('too large');
  if (about === 'floor') {
    if (low.includes('negative')) {
      return 'A floor cannot be negative. Enter the least balance to keep in each currency, 0 or more (for example USDC=25000).';
    }
    if (tooLarge || code === 'ERANGE') return 'A floor is larger than any balance the page accepts. Check the number of digits.';
    return 'The floors could not be read. Write them as currency=amount, separated by commas, for example USDC=25000,USD=10000.';
  }
  if (about === 'horizon') return 'The horizon must be a whole number of hours from 1 to 720.';
  if (about === 'now') return 'Set "Now (UTC)" to a valid date and hour.';
  if (code === 'ENOTFOUND') {
    const id = (msg.match(/'([^']+)'|"([^"]+)"/) || []).slice(1).find(Boolean);
    return `${id ? `"${id}"` : 'That id'} is not in the data: check the transfer or stream id.`;
  }
  if (about === 'amount') {
    if (low.includes('greater than 0') || low.includes('negative')) {
      return 'A what-if amount must be more than zero; use the direction (payment out or receipt in) for its sign.';
    }
    if (tooLarge || code === 'ERANGE') return 'That amount is larger than any balance the page accepts. Check the number of digits.';
    return 'That amount is not a number the page can use. Write it with a dot for decimals and no thousands separators, for example 50000.00.';
  }
  if (about === 'scenario') return 'The what-if change could not be applied. Check its account, time and amount.';
  if (code === 'EPARSE') return 'A file could not be read. Check that it is the right CSV (accounts, transfers or streams) with its header row.';
  if (code === 'ERANGE') return 'A number is out of range. Check the amounts, floors and horizon.';
  if (code === 'ENOMEM') return 'The browser ran out of memory for this projection. Try a shorter horizon.';
  return 'The projection could not be computed from these inputs. Check the last change.';
}

function showError(e, { stale = false } = {}) {
  const box = $('error');
  box.replaceChildren(el('strong', {}, 'Not applied: '), plain(e));
  box.title = e.code ? `${e.code}: ${e.message}` : '';
  box.setAttribute('data-code', e.code || '');
  if (e.rows && e.rows.length > 1) {
    const ul = el('ul');
    for (const r of e.rows) ul.append(el('li', {}, `Row ${r.row}: ${String(r.message).replace(/^[A-Z]+: /, '')}`));
    box.append(ul);
  }
  box.hidden = false;
  setStale(stale && state.result !== null);
}

// Each writes only a change: these run after every projection, and a write of
// the same value is still a DOM mutation the browser has to look at.
function clearError() {
  if (!$('error').hidden) $('error').hidden = true;
}

// After a refused input the figures on screen are the last good projection, not the inputs shown.
function setStale(on) {
  if ($('cards').hasAttribute('data-stale') !== on) $('cards').toggleAttribute('data-stale', on);
  if ($('results').classList.contains('stale') !== on) $('results').classList.toggle('stale', on);
  if ($('stale-note').hidden !== !on) $('stale-note').hidden = !on;
}

// ---- chart ---------------------------------------------------------------

// Makes `parent`'s children the items (in order), reusing the elements there:
// make(item) builds one, fit(element, item) updates one in place. Only what
// differs is written, so an unchanged axis costs no layout.
function syncList(parent, items, make, fit) {
  const kids = [...parent.children];
  items.forEach((it, i) => (kids[i] ? fit(kids[i], it) : parent.append(make(it))));
  for (const k of kids.slice(items.length)) k.remove();
}

// Sets an attribute only when it changes (a write of the same value still invalidates layout).
function put(e, k, v) {
  const t = String(v);
  if (e.getAttribute(k) !== t) e.setAttribute(k, t);
}

function putText(e, t) {
  if (e.textContent !== t) e.textContent = t;
}

// The hourly balance path of a currency: the p10-p90 band (ML), the p50 line,
// the floor, a marker at the first p50 hour below it, the scheduled transfers
// on the time axis (local time), and a read-out of any hour under the pointer
// or, with the chart focused, moved by the arrow keys. The chart is made once
// per card and updated in place by each projection (update(p, cur)): the
// elements stay, only the attributes and texts that changed are written, and
// a read-out being shown (pointer or keyboard) stays on its hour with the new
// figures.
const CH = { W: 320, H: 172, L: 46, R: 10, T: 10, B: 128 };

// The time axis's items for a start and a length: the same for every chart,
// so worked out once per horizon (not once per chart) and kept for the last
// few horizons a slider goes back and forth over.
const axisMemo = new Map();
function axisItems(t0, n, zone) {
  const key = `${t0}|${n}|${zone}`;
  let items = axisMemo.get(key);
  if (!items) {
    items = [['x-axis'], ...timeTicks(t0, n).flatMap((i) => [['tick', i], ['x-tick', i, tickLabel(t0 + i * HOUR)]]),
      ['axis-title', 0, `Time (${zone})`]];
    if (axisMemo.size >= 32) axisMemo.delete(axisMemo.keys().next().value);
    axisMemo.set(key, items);
  }
  return items;
}
function chartView() {
  const { W, H, L, R, T, B } = CH;
  const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', tabindex: '0' });
  const grid = svg('g', { class: 'y-grid' });
  const axis = svg('g', { class: 'x-time' });
  const fill = svg('polygon', {});
  const floorLine = svg('line', { x1: L, x2: W - R, class: 'floor' });
  const floorLabel = svg('text', { x: W - R, class: 'floor-label' }, 'floor');
  const line = svg('polyline', { class: 'line' });
  const marks = svg('g', { class: 'sched-marks' });
  const breach = svg('circle', { r: 4, class: 'breach' });
  const breachTitle = svg('title', {});
  breach.append(breachTitle);
  const guide = svg('line', { x1: 0, x2: 0, y1: T, y2: B, class: 'cursor', visibility: 'hidden' });
  const dot = svg('circle', { cx: 0, cy: 0, r: 3.5, class: 'cursor-dot', visibility: 'hidden' });
  s.append(grid, axis, fill, floorLine, floorLabel, line, marks, guide, dot);
  const idle = 'Point at the chart, or focus it and use ← →, to read an hour.';
  const out = el('p', { class: 'readout', 'aria-live': 'polite' }, idle);
  // What the chart shows now (set by update).
  let v = null;
  let at = 0, reading = false, axisKey = '', marksKey = '';
  let markEls = new Map(); // the scheduled transfers' marks on the axis, by hour, direction and amount

  const show = (i) => {
    const { path, n, x, y, fmt, when, floor, banded, ccy } = v;
    at = Math.max(0, Math.min(n - 1, i));
    reading = true;
    const q = path[at];
    for (const e of [guide, dot]) e.setAttribute('visibility', 'visible');
    guide.setAttribute('x1', x(at));
    guide.setAttribute('x2', x(at));
    dot.setAttribute('cx', x(at));
    dot.setAttribute('cy', y(q.p50));
    const gap = q.p50 - floor;
    const flows = [q.scheduled_out > 0 ? `scheduled out ${fmt(q.scheduled_out)}` : null,
      (q.scheduled_in ?? 0) > 0 ? `scheduled in ${fmt(q.scheduled_in)}` : null].filter(Boolean);
    out.replaceChildren(...[el('strong', {}, `${when(at)} (+${at} h)`),
      el('span', { class: 'r-p50' }, `p50 ${fmt(q.p50)} ${ccy}`),
      banded ? el('span', {}, `p10–p90 ${fmt(q.p10)} – ${fmt(q.p90)}`) : null,
      el('span', { class: gap < 0 ? 'below' : '' }, `${fmt(Math.abs(gap))} ${gap < 0 ? 'below' : 'above'} the floor`),
      flows.length ? el('span', {}, flows.join(', ')) : null].filter(Boolean));
    out.dataset.hour = String(at);
    out.dataset.p50 = String(q.p50);
  };
  const hide = () => {
    reading = false;
    for (const e of [guide, dot]) e.setAttribute('visibility', 'hidden');
    out.replaceChildren(idle);
    delete out.dataset.hour;
    delete out.dataset.p50;
  };
  s.addEventListener('pointermove', (ev) => {
    const r = s.getBoundingClientRect();
    show(Math.round((((ev.clientX - r.left) / r.width) * W - L) / (W - L - R) * (v.n - 1)));
  });
  s.addEventListener('pointerleave', () => (document.activeElement === s ? show(at) : hide()));
  s.addEventListener('focus', () => show(at));
  s.addEventListener('blur', hide);
  s.addEventListener('keydown', (ev) => {
    const step = { ArrowRight: 1, ArrowLeft: -1, PageDown: 24, PageUp: -24 }[ev.key];
    if (step) show(at + step);
    else if (ev.key === 'Home') show(0);
    else if (ev.key === 'End') show(v.n - 1);
    else if (ev.key === 'Escape') s.blur();
    else return;
    ev.preventDefault();
  });

  function update(p, cur) {
    const ccy = cur.currency;
    const path = cur.path, n = path.length;
    const t0 = Date.parse(p.as_of);
    const ys = path.map((q) => q.p50);
    const banded = path.some((q) => q.p10 !== q.p90);
    const floor = Number(cur.depletion.floor);
    let lo = floor, hi = floor;
    for (const q of path) {
      lo = Math.min(lo, q.p50, q.p10);
      hi = Math.max(hi, q.p50, q.p90);
    }
    const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 1;
    lo -= pad;
    hi += pad;
    const x = (i) => L + (i / Math.max(1, n - 1)) * (W - L - R);
    const y = (val) => T + (1 - (val - lo) / (hi - lo)) * (B - T);
    const xy = (val, i) => `${x(i).toFixed(1)},${y(val).toFixed(1)}`;
    const scale = scaleOf(ccy, cur.current_balance);
    const fmt = (val) => amount(numToDecimal(val, scale), ccy);
    const when = (i) => fmtFull.format(new Date(t0 + i * HOUR));
    v = { path, n, x, y, fmt, when, floor, banded, ccy };

    const below = ys.findIndex((val) => val < floor);
    const sched = path.flatMap((q) => [
      ...(q.scheduled_out > 0 ? [{ i: q.hour, dir: 'out', v: q.scheduled_out }] : []),
      ...((q.scheduled_in ?? 0) > 0 ? [{ i: q.hour, dir: 'in', v: q.scheduled_in }] : [])]);
    let minI = 0;
    for (let i = 1; i < n; i++) if (ys[i] < ys[minI]) minI = i;
    const zone = zoneTitle(t0, n - 1);
    put(s, 'aria-label', `${ccy} balance over the next ${n - 1} hours from ${when(0)} (${zone}): p50 from ${fmt(ys[0])} to `
      + `${fmt(ys[n - 1])}, lowest ${fmt(ys[minI])} at ${when(minI)}`
      + (banded ? `; p10 to p90 at the end ${fmt(path[n - 1].p10)} to ${fmt(path[n - 1].p90)}` : '')
      + `; floor ${fmt(floor)}; ${below >= 0 ? `p50 first below the floor at ${when(below)} (+${below} h)` : 'p50 stays above the floor'}`
      + `; ${sched.length} scheduled transfer${sched.length === 1 ? '' : 's'}. Use the arrow keys to read each hour.`);

    // Value grid and labels: reused elements, moved.
    const label = (val) => compact(val).replace(/\.0+(?=[kM]?$)/, '');
    syncList(grid, niceTicks(lo, hi).flatMap((val) => [['line', y(val)], ['text', y(val), label(val)]]),
      ([tag, yy, text]) => (tag === 'line' ? svg('line', { x1: L, x2: W - R, y1: yy, y2: yy, class: 'grid' })
        : svg('text', { x: L - 4, y: yy + 3.5, class: 'y-tick' }, text)),
      (e, [tag, yy, text]) => {
        if (e.tagName !== tag) return e.replaceWith(tag === 'line' ? svg('line', { x1: L, x2: W - R, y1: yy, y2: yy, class: 'grid' })
          : svg('text', { x: L - 4, y: yy + 3.5, class: 'y-tick' }, text));
        if (tag === 'line') {
          put(e, 'y1', yy);
          put(e, 'y2', yy);
        } else {
          put(e, 'y', yy + 3.5);
          putText(e, text);
        }
        return undefined;
      });
    // Time axis (depends only on the start and the hours): ticks and local-time
    // labels, then the zone and its UTC offset as the title.
    if (axisKey !== `${t0}|${n}`) {
      axisKey = `${t0}|${n}`;
      // Reused elements moved: a horizon what-if keeps most labels, which then need no new text layout.
      const items = axisItems(t0, n, zone);
      const make = ([cls, i, text]) => {
        if (cls === 'x-axis') return svg('line', { x1: L, x2: W - R, y1: B, y2: B, class: cls });
        if (cls === 'tick') return svg('line', { x1: x(i), x2: x(i), y1: B, y2: B + 3, class: cls });
        if (cls === 'x-tick') return svg('text', { x: x(i), y: B + 22, class: cls, 'data-hour': i }, text);
        return svg('text', { x: (L + W - R) / 2, y: H - 4, class: cls }, text);
      };
      syncList(axis, items, make, (e, it) => {
        const [cls, i, text] = it;
        if (e.getAttribute('class') !== cls) return e.replaceWith(make(it));
        if (cls === 'tick') {
          put(e, 'x1', x(i));
          put(e, 'x2', x(i));
        } else if (cls === 'x-tick') {
          put(e, 'x', x(i));
          put(e, 'data-hour', i);
          putText(e, text);
        } else if (cls === 'axis-title') {
          putText(e, text);
        }
        return undefined;
      });
    }
    // Band (ML) or the area under the rule's path.
    const line50 = ys.map(xy).join(' ');
    if (banded) {
      const up = path.map((q, i) => xy(q.p90, i));
      const down = path.map((q, i) => xy(q.p10, i)).reverse();
      put(fill, 'points', [...up, ...down].join(' '));
      put(fill, 'class', 'band');
    } else {
      put(fill, 'points', `${x(0)},${B} ${line50} ${x(n - 1)},${B}`);
      put(fill, 'class', 'area');
    }
    put(floorLine, 'y1', y(floor));
    put(floorLine, 'y2', y(floor));
    put(floorLabel, 'y', y(floor) - 3);
    put(line, 'points', line50);
    // Scheduled transfers on the axis: ▼ out, ▲ in.
    // A mark is kept while its transfer is (same hour, direction, amount and
    // start): a horizon what-if only moves it (one transform), where making
    // it again formatted its title and made two elements per mark per chart.
    const key = `${t0}|${scale}|${sched.map((t) => `${t.i}${t.dir}${t.v}`).join(',')}`;
    if (key !== marksKey) {
      marksKey = key;
      const old = markEls;
      markEls = new Map();
      // In hour order; the marks kept are moved only when out of place.
      sched.forEach((t, i) => {
        const k = `${t.i}${t.dir}${t.v}`;
        let m = old.get(k);
        if (!m) {
          const pts = t.dir === 'out' ? `-3.5,${B + 4} 3.5,${B + 4} 0,${B + 10}` : `-3.5,${B + 10} 3.5,${B + 10} 0,${B + 4}`;
          m = svg('polygon', { points: pts, class: `sched ${t.dir}`, 'data-hour': t.i });
          m.append(svg('title', {}, `Scheduled ${t.dir === 'out' ? 'out' : 'in'}: ${fmt(t.v)} ${ccy} in the hour to ${when(t.i)}`));
        }
        markEls.set(k, m);
        if (marks.children[i] !== m) marks.insertBefore(m, marks.children[i] || null);
      });
      while (marks.children.length > sched.length) marks.lastElementChild.remove();
    }
    for (const m of markEls.values()) put(m, 'transform', `translate(${x(Number(m.dataset.hour)).toFixed(1)},0)`);
    if (below >= 0) {
      put(breach, 'cx', x(below));
      put(breach, 'cy', y(ys[below]));
      put(breach, 'data-hour', below);
      putText(breachTitle, `p50 first below the floor at ${when(below)}`);
      if (!breach.isConnected) s.insertBefore(breach, guide);
    } else {
      breach.remove();
    }
    if (reading) show(at);
  }
  return { node: el('div', { class: 'chart-wrap' }, s, out), update };
}

// ---- rendering -----------------------------------------------------------

function stat(label, value, cls = '') {
  return h('div', { class: `stat ${cls}` }, h('span', { class: 'label' }, label), h('span', { class: 'value' }, value));
}

// The 48 h depletion probability (the risk's), else the nearest one given.
function riskProbability(cur) {
  const pr = cur.depletion.probability;
  for (const k of ['48h', '24h', '72h', '96h']) if (pr[k] !== null && pr[k] !== undefined) return { p: pr[k], key: k };
  return { p: null, key: '48h' };
}

// One projection's headline at the horizon: the rule's exact balance, or the p50 of a banded method.
function headline(p, cur) {
  const scale = scaleOf(cur.currency, cur.current_balance);
  if (p.method === 'rule') return cur.rule.projected_balance;
  return numToDecimal(cur.path[cur.path.length - 1].p50, scale);
}

function breachRange(p, cur) {
  const t = cur.depletion.time_to_breach_hours || {};
  if (t.p10 === null || t.p10 === undefined) return null;
  const from = hoursLater(p.as_of, t.p10);
  if (t.p90 === null || t.p90 === undefined) return `from ${from} (some paths stay above it through ${p.horizon_hours} h)`;
  return t.p10 === t.p90 ? `at ${from}` : `between ${from} and ${hoursLater(p.as_of, t.p90)}`;
}

// A card's figures: its attributes (test hooks, risk) and its text blocks, the
// chart aside (cardView draws it). base: the baseline's {method, head} (its
// headline for this currency) when a scenario is active, else null.
function card(p, cur, base) {
  const horizon = p.horizon_hours;
  const ccy = cur.currency;
  const scale = scaleOf(ccy, cur.current_balance);
  const banded = p.method !== 'rule';
  const risk = cur.depletion.risk;
  const { p: prob, key } = riskProbability(cur);
  const head = h('div', { class: 'card-head' },
    h('span', { class: 'ccy' }, ccy),
    h('span', { class: `badge risk-${risk}`, title: prob === null ? '' : `P(below floor within ${key.replace('h', ' h')}) = ${prob}` }, RISK_TEXT[risk] || risk));
  const hl = headline(p, cur);
  const floorMinor = toMinor(cur.depletion.floor, scale);
  const below = toMinor(hl, scale) < floorMinor;
  const body = h('div', { class: 'balances' },
    stat('Current balance', money(cur.current_balance, ccy), 'big'),
    stat(banded ? `Projected p50 in ${horizon} h` : `Projected in ${horizon} h`, money(hl, ccy), `big headline ${below ? 'down' : ''}`));
  let delta = null;
  if (base) {
    const bhl = base.head;
    delta = toMinor(hl, scale) - toMinor(bhl, scale);
    if (delta !== 0n) {
      const abs = fromMinor(delta < 0n ? -delta : delta, scale);
      body.kids.push(h('div', { class: `vs ${delta < 0n ? 'down' : 'up'}` },
        `${delta < 0n ? '−' : '+'}${amount(abs, ccy)} vs baseline (${money(bhl, ccy)}${banded ? ', p50' : ''})`));
    } else {
      body.kids.push(h('div', { class: 'vs' }, 'No change vs baseline'));
    }
  }
  const r = cur.rule;
  const flows = h('div', { class: 'flows' },
    stat('Scheduled outflows', flow('−', r.scheduled_outflows, ccy)),
    stat('Scheduled inflows', flow('+', r.scheduled_inflows ?? '0', ccy)),
    stat('Stream drain', flow('−', r.stream_drain, ccy)),
    stat('Floor', money(cur.depletion.floor, ccy)));
  const legend = h('div', { class: 'legend', 'aria-hidden': 'true' },
    h('span', { class: 'k-p50' }, 'p50'), banded ? h('span', { class: 'k-band' }, 'p10–p90') : null,
    h('span', { class: 'k-floor' }, 'floor'), h('span', { class: 'k-out' }, '▼ scheduled out'), h('span', { class: 'k-in' }, '▲ in'));
  const last = cur.path[cur.path.length - 1];
  if (banded) {
    flows.kids.push(stat(`p10 – p90 at +${horizon} h`, `${amount(numToDecimal(last.p10, scale), ccy)} – ${amount(numToDecimal(last.p90, scale), ccy)}`, 'wide band-figure'));
    const probs = Object.entries(cur.depletion.probability).filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `${k.replace('h', ' h')} ${pct(v)}`).join(' · ');
    flows.kids.push(stat('Chance below floor within', probs || '—', 'wide probability'));
    const bt = cur.model && cur.model.backtest;
    flows.kids.push(stat('Model', `${cur.model.name}${bt && bt.coverage_80 !== null && bt.coverage_80 !== undefined
      ? ` · backtest 80% band covered ${(bt.coverage_80 * 100).toFixed(0)}%` : ''}${cur.model.message ? ` · ${cur.model.message}` : ''}`, 'wide'));
  }
  const range = breachRange(p, cur);
  const foot = range
    ? h('div', { class: 'depletion warn' }, `Falls below floor ${range}`
      + (banded && prob !== null ? ` · ${pct(prob)} chance within ${key.replace('h', ' h')}` : ''))
    : h('div', { class: 'depletion' }, `Stays above floor for ${horizon} h`
      + (banded && prob !== null && prob > 0 ? ` at the median (${pct(prob)} chance of a breach within ${key.replace('h', ' h')})` : ''));
  return { attrs: { class: `card risk-${risk}`, 'data-currency': ccy, 'data-risk': risk, 'data-headline': hl,
    'data-delta': delta !== null ? fromMinor(delta, scale) : null }, parts: [head, body, legend, flows, foot] };
}

// A currency's card, made once and updated in place by each projection: its
// attributes are set, its text blocks patched (patch.js: the text nodes and
// attributes that differ written, a block rebuilt only when its structure
// changed), and its chart updated in place (chartView), so the elements the
// browser has laid out and painted stay unless their figures changed.
function cardView() {
  const root = el('article', {});
  const ch = chartView();
  let blocks = null; // head, body, legend, flows, foot
  function update(p, cur, base) {
    const { attrs, parts } = card(p, cur, base);
    for (const [k, v] of Object.entries(attrs)) if (v === null) root.removeAttribute(k); else put(root, k, v);
    if (!blocks) {
      blocks = parts.map(makeNode);
      root.append(blocks[0], blocks[1], ch.node, ...blocks.slice(2));
    } else {
      blocks = blocks.map((b, i) => patch(b, parts[i]));
    }
    ch.update(p, cur);
  }
  return { root, update };
}

// Highest risk first, then the most likely breach, then the soonest; ties keep the core's order.
function byRisk(list) {
  const ttb = (c) => c.depletion.time_to_breach_hours?.p50 ?? c.depletion.time_to_breach_hours?.p10 ?? Infinity;
  return list.map((c, i) => ({ c, i })).sort((a, b) => (RISK_RANK[a.c.depletion.risk] ?? 3) - (RISK_RANK[b.c.depletion.risk] ?? 3)
    || (riskProbability(b.c).p ?? 0) - (riskProbability(a.c).p ?? 0) || ttb(a.c) - ttb(b.c) || a.i - b.i).map((x) => x.c);
}

function renderAlerts(p) {
  const atRisk = byRisk(p.currencies.filter((c) => c.depletion.risk === 'medium' || c.depletion.risk === 'high'));
  const box = $('alerts');
  if (!atRisk.length) {
    patchChildren(box, [h('p', { class: 'ok' }, `No currency at risk: each stays above its floor with a chance of a breach below ${
      pct(0.1)} within 48 h.`)]);
    put(box, 'class', 'alerts none');
    return;
  }
  put(box, 'class', 'alerts');
  const items = atRisk.map((c) => {
    const { p: prob, key } = riskProbability(c);
    const range = breachRange(p, c);
    const drivers = (c.depletion.drivers || []).slice(0, 3);
    return h('li', { 'data-currency': c.currency, 'data-risk': c.depletion.risk, class: `risk-${c.depletion.risk}` },
      h('strong', {}, `${c.currency}: ${pct(prob)} chance below its floor of ${money(c.depletion.floor, c.currency)} within ${key.replace('h', ' h')}`),
      h('div', { class: 'when' }, range ? `Expected breach ${range} (10%–90% of simulated paths)` : `No breach expected within ${p.horizon_hours} h at the median`),
      drivers.length ? h('ul', { class: 'drivers' }, ...drivers.map((d) => h('li', {}, `${d.text} (${pct(d.share)} of outflows)`))) : null);
  });
  patchChildren(box, [h('h2', {}, `At risk: ${atRisk.length} ${atRisk.length === 1 ? 'currency' : 'currencies'}`), h('ol', {}, ...items)]);
}

// What each card on screen was drawn from (currency -> [cur, baseline
// headline, method, as_of, horizon]): a card whose inputs are the same objects
// is left as it is. The worker sends only the currencies whose figures
// changed, so a what-if that moves one currency redraws one card.
const drawn = new Map();
const sameInputs = (a, b) => a && a.length === b.length && a.every((v, i) => v === b[i]);

// Draws the projection: the changed cards updated in place, the cards put in
// risk order (moved only when it changed), the alerts and recommendations
// redrawn only when their figures changed. Returns the number of cards drawn.
// New cards are made at most NEW_CARDS per frame, riskiest first, the rest
// after the next frame (moreCardsSoon): the first projection after sign-in
// made every card in one frame (a task of 20-38 ms of CPU, most of it the
// layout of 440 new objects; with two cards a frame the first frame still
// took 20-40 ms under load, being the page's first layout of a card and its
// chart). What-ifs after it update cards that exist.
const NEW_CARDS = 1;
const views = new Map(); // currency -> its card (cardView)
function renderCards(p, base, headChanged) {
  for (const c of p.currencies) state.scales[c.currency] = decimalsOf(c.current_balance);
  const cards = $('cards');
  let redrawn = 0, made = 0;
  for (const c of byRisk(p.currencies)) {
    const bhl = base ? base.heads[c.currency] ?? headline(p, c) : null;
    const inputs = [c, bhl, p.method, p.as_of, p.horizon_hours];
    if (views.has(c.currency) && sameInputs(drawn.get(c.currency), inputs)) continue;
    if (!views.has(c.currency)) {
      if (made === NEW_CARDS) {
        moreCardsSoon();
        continue;
      }
      made++;
      views.set(c.currency, cardView());
    }
    views.get(c.currency).update(p, c, base ? { method: base.method, head: bhl } : null);
    drawn.set(c.currency, inputs);
    redrawn++;
  }
  for (const ccy of [...views.keys()]) {
    if (!p.currencies.some((c) => c.currency === ccy)) {
      views.get(ccy).root.remove();
      views.delete(ccy);
      drawn.delete(ccy);
    }
  }
  // Risk order, moving only the cards out of place (a moved card loses focus).
  byRisk(p.currencies).filter((c) => views.has(c.currency)).forEach((c, i) => {
    const e = views.get(c.currency).root;
    if (cards.children[i] !== e) cards.insertBefore(e, cards.children[i] || null);
  });
  cards.setAttribute('data-ready', '1');
  cards.setAttribute('data-method', p.method);
  const asof = `as of ${shortTime(p.as_of)} · tenant ${p.tenant_id} · ${p.method} projection`
    + (base ? ' · scenario vs baseline' : '');
  if ($('asof').textContent !== asof) $('asof').textContent = asof;
  if (redrawn || headChanged) renderAlerts(p);
  if (headChanged) renderRecommendations(p);
  return redrawn;
}

// The cards not made yet, after the next frame: from the projection then on
// screen (a newer one may have come meanwhile and made some).
let cardsSoon = false;
let cardsDone = [];
function moreCardsSoon() {
  if (cardsSoon) return;
  cardsSoon = true;
  updateBusy();
  requestAnimationFrame(() => setTimeout(() => {
    cardsSoon = false;
    if (state.result) renderCards(state.result, state.baseline, false);
    if (!cardsSoon) for (const ok of cardsDone.splice(0)) ok();
    updateBusy();
  }, 0));
}

// Resolves when every card of the projection on screen is drawn.
const cardsDrawn = () => (cardsSoon ? new Promise((ok) => cardsDone.push(ok)) : Promise.resolve());

// Forgets what the cards were drawn from (signed out: the next projection draws every card).
function clearCards() {
  drawn.clear();
  views.clear();
  $('cards').replaceChildren();
}

function renderRecommendations(p) {
  const items = p.recommendations.map((r) => {
    const probs = r.probability_before !== null && r.probability_before !== undefined
      ? `Chance ${r.to_currency} falls below its floor within ${p.horizon_hours} h: ${pct(r.probability_before)} → ${pct(r.probability_after)}`
        + (r.target_probability !== null && r.target_probability !== undefined ? ` (target ${pct(r.target_probability)})` : '')
      : null;
    return h('li', { class: 'rec', 'data-from': r.from_currency, 'data-to': r.to_currency },
      h('strong', {}, `Move ${money(r.amount, r.from_currency)} → ${r.to_currency}`),
      h('span', { class: 'by' }, ` by ${shortTime(r.by)}`),
      probs ? h('div', { class: 'probs' }, probs) : null,
      h('div', { class: 'reason' }, r.reason));
  });
  patchChildren($('recs'), (items.length ? items
    : [h('li', { class: 'rec none' }, 'No move needed: every currency stays above its floor over the horizon.')]));
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

// The table is below the cards: its rows are written after the frame that
// shows the cards, so that frame lays out the cards alone (the first
// projection after sign-in laid out the 35-row table in the same frame, one
// main-thread task of about 50 ms of CPU). <main> stays aria-busy until then.
let runwaySoon = false;
function renderRunwaySoon() {
  if (runwaySoon) return;
  runwaySoon = true;
  updateBusy();
  requestAnimationFrame(() => setTimeout(() => {
    runwaySoon = false;
    // After the cards: a frame of its own, not one with cards still being made.
    if (cardsSoon) cardsDrawn().then(renderRunwaySoon);
    else renderRunway();
    updateBusy();
  }, 0));
}

const RUNWAY_CHUNK = 12;
let runwayGen = 0; // a newer drawing of the table stops the chunks of an older one
let runwayRows = false; // rows still to be appended (aria-busy until they are)
function runwayChunks(body, trs, gen) {
  body.replaceChildren(...trs.slice(0, RUNWAY_CHUNK));
  runwayRows = true;
  updateBusy();
  let at = RUNWAY_CHUNK;
  const next = () => requestAnimationFrame(() => setTimeout(() => {
    if (gen !== runwayGen) return;
    body.append(...trs.slice(at, at + RUNWAY_CHUNK));
    at += RUNWAY_CHUNK;
    if (at < trs.length) return next();
    runwayRows = false;
    return updateBusy();
  }, 0));
  next();
}

let runwayDrawn = ''; // what the table shows (streams, sort, scenario pauses): redrawn only when it changes
function renderRunway() {
  const { key, dir } = state.sort;
  const sig = JSON.stringify([state.streams, key, dir, [...state.scenario.pause]]);
  if (sig === runwayDrawn && $('runway').querySelector('tbody').childElementCount === state.streams.length) return;
  runwayDrawn = sig;
  const rows = [...state.streams].sort((a, b) => {
    const x = sortValue(a, key), y = sortValue(b, key);
    return (x < y ? -1 : x > y ? 1 : 0) * dir || (a.id < b.id ? -1 : 1);
  });
  const trs = rows.map((s) => el('tr', { class: `st-${s.runway_status}` },
    el('td', { class: 'mono' }, s.id),
    el('td', {}, s.currency),
    el('td', { class: 'num' }, amount(s.remaining, s.currency)),
    el('td', { class: 'num' }, s.hours_until_depleted === null ? '∞' : s.hours_until_depleted.toFixed(1)),
    el('td', {}, el('span', { class: `pill st-${s.runway_status}` }, s.runway_status)),
    el('td', {}, pauseBox(s))));
  const body = $('runway').querySelector('tbody');
  const gen = ++runwayGen;
  // The first time (an empty table: after sign-in) a chunk of rows per
  // frame: laying out 35 new rows was one task of 17-30 ms of CPU.
  if (body.childElementCount || trs.length <= RUNWAY_CHUNK) {
    body.replaceChildren(...trs);
    if (runwayRows) {
      runwayRows = false;
      updateBusy();
    }
  } else {
    runwayChunks(body, trs, gen);
  }
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

const scenarioActive = () => Object.keys(toCanonical(state.scenario)).length > 0;

const scenarioObject = (sc = state.scenario) => toCanonical(sc);

let scenarioDrawn = { sc: null, sig: '' };
function renderScenario() {
  const sc = state.scenario;
  const items = [
    ...sc.transfers.map((t, i) => ({ text: `${t.from_account_id.startsWith('whatif-') ? 'Receipt' : 'Payment'} `
      + `${money(t.amount, t.currency)} ${t.from_account_id.startsWith('whatif-') ? 'into' : 'from'} `
      + `${t.from_account_id.startsWith('whatif-') ? t.to_account_id : t.from_account_id} at ${shortTime(t.scheduled_for)}`,
      drop: () => sc.transfers.splice(i, 1) })),
    ...sc.cancel.map((id, i) => ({ text: `Cancel pending transfer ${id}`, drop: () => sc.cancel.splice(i, 1) })),
    ...[...sc.pause].map((id) => ({ text: `Pause stream ${id}`, drop: () => sc.pause.delete(id) })),
    ...(sc.extra && Object.keys(sc.extra).length ? [{ text: `Also, saved through the API: ${Object.keys(sc.extra).join(', ')}`,
      drop: () => { sc.extra = {}; } }] : []),
  ];
  // Unchanged (same scenario, same items): left as it is, so a what-if that
  // does not touch the list costs no layout above the cards.
  const sig = JSON.stringify(items.map((it) => it.text));
  if (scenarioDrawn.sc === sc && scenarioDrawn.sig === sig) return;
  scenarioDrawn = { sc, sig };
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

// ---- export ----------------------------------------------------------------

// A CSV field: quoted when it holds a comma, quote or line break.
const csvField = (v) => (/[",\r\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

// The projection on screen as CSV: one row per currency and hour (p10, p50,
// p90 exactly as the answer's numbers; times in the browser's zone with their
// offset), after comment lines naming the projection and its scenario JSON.
function projectionCsv(p, opts) {
  const t0 = Date.parse(p.as_of);
  const lines = [
    `# floatcast projection: tenant ${p.tenant_id}, as of ${p.as_of}, ${p.horizon_hours} h, method ${p.method}`
      + `${opts.floors ? `, floors ${opts.floors}` : ''}; times in ${zoneTitle(t0, p.horizon_hours)}`,
    `# scenario: ${JSON.stringify(opts.scenario || {})}`,
    'currency,hour,time,p10,p50,p90,scheduled_out,scheduled_in,stream_drain',
  ];
  for (const c of p.currencies) {
    for (const q of c.path) {
      lines.push([c.currency, q.hour, localIso(t0 + q.hour * HOUR), q.p10, q.p50, q.p90,
        q.scheduled_out, q.scheduled_in ?? 0, q.stream_drain].map(csvField).join(','));
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}

function exportCsv() {
  if (!state.result) return;
  const p = state.result;
  const blob = new Blob([projectionCsv(p, state.resultOptions || {})], { type: 'text/csv' });
  const a = el('a', { href: URL.createObjectURL(blob),
    download: `floatcast-${p.tenant_id}-${p.as_of.slice(0, 13).replace(/[^0-9T]/g, '')}-${p.method}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60e3);
}

// ---- the compute worker ------------------------------------------------------

// Two workers, each with its own module: the rule's what-ifs (a few ms) and
// the ML method's (a flow-model fit of 0.2-0.6 s, then a simulation per
// horizon). A WASM call cannot be interrupted, so with one worker a rule
// what-if made while the ML model was being fitted waited for the fit; with
// two, the ML worker can fit the model right after the data loads (warmMl)
// while the rule's what-ifs go on, and switching to ML does not fit.
function computeWorker(name) {
  const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name });
  const c = { w, name, sent: null, ready: null,
    // The last projection this worker sent, as deltas absorbed in order (drawn or
    // superseded alike, so it is always what the worker's next delta is against),
    // or the one the page drew from `kept` (then told to the worker: 'shown').
    held: { head: null, order: [], cur: new Map(), base: null },
    // Messages carrying data (or asking for the snapshot), and 'shown' notes,
    // counted as the worker counts them (worker.js).
    dataSeq: 0, basis: 0,
    // The worker's projections for this data, by request key: its answers and
    // the ones it made ahead and offered ({p, base} or {json, base}).
    kept: new Map(),
    // The rule kits it sent for this data, by kitKey (ruleshift.js), and the
    // page's own for a payment worked out here until the worker's comes.
    kits: new Map() };
  c.ready = new Promise((ok, fail) => {
    w.onmessage = (ev) => {
      const m = ev.data;
      if (m.kind === 'ready') return ok(m.version);
      if (m.kind === 'failed') return fail(Object.assign(new Error(m.error.message), m.error));
      return answered(c, m);
    };
    w.onerror = (ev) => fail(new Error(ev.message || 'the compute worker failed to start'));
  });
  return c;
}
const workers = { rule: computeWorker('floatcast-rule'), ml: computeWorker('floatcast-ml') };

// Posts msg to worker c. A message that carries data, or asks for the
// snapshot, starts the worker on other data: what was kept for the old is
// forgotten, and answers and offers made before it are not kept.
function post(c, msg, transfer = []) {
  if (msg.data || msg.kind === 'snapshot') {
    c.dataSeq++;
    c.kept.clear();
    c.kits.clear();
  }
  c.w.postMessage(msg, transfer);
}

// Tells the rule's worker the cards are drawn and the page idle: it may
// project the horizons around the one on screen (worker.js, lookAhead).
const sweepAhead = () => post(workers.rule, { kind: 'ahead' });

// ---- answers kept on the page --------------------------------------------------
// A what-if a worker has answered before, or projected ahead and offered
// (worker.js: the horizons next to the one on screen; for ML the next one of
// a move), is answered here, in the input's own task: no message to the
// worker and back, each of which waited for a core on a loaded machine
// (5-19 ms of a rule what-if's 16 ms frame).
// Keyed by the request's options as the worker keys them (pageKey); the
// last KEPT, as the worker remembers what it gave (worker.js, GIVEN).
const KEPT = 48; // a sweep is 24 keys; each answer kept whole costs heap the collector walks
const pageKey = (options, baseline) => `${JSON.stringify(options)}${baseline ? '|baseline' : ''}`;

function keepAnswer(c, key, entry) {
  c.kept.delete(key);
  c.kept.set(key, entry);
  if (c.kept.size > KEPT) c.kept.delete(c.kept.keys().next().value);
}

// An offer of the rule worker (a projection made ahead) for the data the page has.
function offered(c, m) {
  if (m.data_seq === c.dataSeq) keepAnswer(c, m.key, { json: m.json, p: null, base: m.base });
}

// The held form (absorb) of a whole projection and its baseline's headlines.
function heldOf(p, base) {
  const { currencies, ...head } = p;
  return { head, order: currencies.map((x) => x.currency), cur: new Map(currencies.map((x) => [x.currency, x])), base };
}

// Draws from a kept answer: the worker is told ('shown'), so that its next
// delta is against this, a projection it still has queued is dropped, and it
// looks ahead from here; its answers to earlier requests are dropped here
// (basis). Returns what recompute reads of an answer.
function fromKept(c, key, entry, opts, scenario) {
  if (!entry.p) {
    entry.p = JSON.parse(entry.json);
    entry.json = null;
  }
  keepAnswer(c, key, entry); // the newest last
  for (const [s, w] of waiting) {
    if (w.kind === 'project') {
      waiting.delete(s);
      w.resolve({ seq: s, superseded: true });
    }
  }
  busyProject = 0;
  updateBusy();
  c.held = heldOf(entry.p, entry.base);
  c.basis++;
  post(c, { kind: 'shown', basis: c.basis, key, options: opts, baseline: scenario });
  return { ok: true, kept: true, head: entry.p, ms: 0, delta_ms: 0, at: null };
}
// The worker of a method: "ml" has its own, everything else (rule, demo, snapshot) the rule's.
const workerFor = (method) => (method === 'ml' ? workers.ml : workers.rule);

let reqSeq = 0;
const waiting = new Map(); // seq -> {resolve, kind}
let busyProject = 0; // seq of the projection in flight, 0 when none
let busyDemo = 0;

// aria-busy follows each computation; the progress cursor only one that lasts
// (an ML fit), since changing an inherited property restyles the whole results
// subtree, twice per what-if, for a cursor nobody would see in a rule's few ms.
let slowTimer = 0;
function updateBusy() {
  const busy = !!(busyProject || busyDemo || runwaySoon || cardsSoon || runwayRows);
  document.querySelector('main').setAttribute('aria-busy', busy ? 'true' : 'false');
  clearTimeout(slowTimer);
  if (busy) slowTimer = setTimeout(() => $('results').classList.add('slow'), 150);
  else if ($('results').classList.contains('slow')) $('results').classList.remove('slow');
}

// Posts a request to worker c; a projection supersedes every earlier one (they resolve {superseded: true}).
function request(kind, payload, c = workers.rule) {
  const seq = ++reqSeq;
  if (kind === 'project') {
    for (const [s, w] of waiting) {
      if (w.kind === 'project') {
        waiting.delete(s);
        w.resolve({ seq: s, superseded: true });
      }
    }
    busyProject = seq;
  } else {
    busyDemo = seq;
  }
  updateBusy();
  return new Promise((resolve) => {
    waiting.set(seq, { resolve, kind });
    post(c, { seq, kind, ...payload });
  });
}

const ready = Promise.all([workers.rule.ready, workers.ml.ready]).then(([version]) => version);

function absorb(c, m) {
  if (m.kind !== 'project' || !m.ok) return;
  const held = c.held;
  if (m.head !== undefined) held.head = m.head;
  held.order = m.order;
  for (const [ccy, ch] of Object.entries(m.changed)) held.cur.set(ccy, ch);
  if (m.baseline !== undefined) held.base = m.baseline;
}

// The projection worker c last sent, and its baseline's headlines ({method, heads} or null).
function projection(c) {
  const held = c.held;
  return { p: { ...held.head, currencies: held.order.map((ccy) => held.cur.get(ccy)) }, base: held.base };
}

// A rule kit from the worker, for the data the page has; one the page made
// for the same key (a payment worked out here) should be the same.
const KITS = 16;
function keepKit(c, key, kit, fromWorker) {
  const mine = c.kits.get(key);
  if (fromWorker && mine && !mine.fromWorker) {
    if (JSON.stringify(mine.kit) === JSON.stringify(kit)) window.fcLocal.kits_agreed++;
    else window.fcLocal.kits_differed++;
  }
  c.kits.delete(key);
  c.kits.set(key, { kit, fromWorker });
  if (c.kits.size > KITS) c.kits.delete(c.kits.keys().next().value);
}

function answered(c, m) {
  if (m.kind === 'warm') return warmed(m);
  if (m.kit && m.data_seq === c.dataSeq) keepKit(c, m.kit_key, m.kit, true);
  if (m.kind === 'offer') return offered(c, m);
  // Made before the worker read the page's last 'shown': a delta against
  // what the page no longer holds (and superseded by what it drew).
  const stale = m.kind === 'project' && m.basis !== c.basis;
  if (!stale) absorb(c, m);
  if (!stale && m.kind === 'project' && m.ok && m.key && m.data_seq === c.dataSeq) {
    const { p, base } = projection(c);
    keepAnswer(c, m.key, { json: null, p, base });
  }
  const w = waiting.get(m.seq);
  if (!w) return undefined; // a stale answer: a newer input superseded it
  waiting.delete(m.seq);
  if (m.seq === busyProject) busyProject = 0;
  if (m.seq === busyDemo) busyDemo = 0;
  updateBusy();
  return w.resolve(m);
}

// Fits the ML flow model (and simulates the current horizon) in the ML
// worker, in the background, so that choosing ML later reuses the fit. Not a
// computation the page waits for: no aria-busy, nothing drawn; an ML request
// sent meanwhile is queued behind it, or replaces it if it has not started.
// window.fcTimings.warm: null while it runs, {ms} when done (the worker's
// time), {superseded} when an ML projection took its place, {error} when the
// data cannot be projected, {skipped} when there was nothing to warm.
function warmMl() {
  const opts = projectOptions();
  if (!state.data.accounts || !opts.now || opts.method === 'ml') {
    window.fcTimings.warm = { skipped: true }; // nothing to project, or ML on screen: its worker fits for it
    return;
  }
  window.fcTimings.warm = null;
  const c = workers.ml;
  post(c, { seq: ++reqSeq, kind: 'warm', data: dataForWorker(c), options: { ...opts, method: 'ml' },
    baseline: !!opts.scenario });
}

function warmed(m) {
  window.fcTimings.warm = m.superseded ? { superseded: true } : m.ok ? { ms: m.ms } : { error: m.error.message };
}

// ---- computing -----------------------------------------------------------

function nowIso() {
  const v = $('now').value; // "YYYY-MM-DDTHH:MM" in UTC
  return v ? `${v.length === 16 ? `${v}:00` : v}Z` : null;
}

function setNow(iso) {
  $('now').value = iso.slice(0, 16);
}

// One CSV line's fields (quotes allowed).
function csvFields(line) {
  const out = [];
  let cur = '', q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (q) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') q = false; else cur += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out;
}

// The data's as-of, as the core's default: the start of the hour after the newest transfer was created.
function dataAsOf(transfers) {
  if (!transfers) return null;
  let times = [];
  const text = typeof transfers === 'string' ? transfers.trim() : '';
  const toMs = (v) => (typeof v === 'number' || /^\d+$/.test(String(v)) ? Number(v) * 1000 : Date.parse(v));
  try {
    if (Array.isArray(transfers)) times = transfers.map((t) => toMs(t.created_at));
    else if (text.startsWith('[')) times = JSON.parse(text).map((t) => toMs(t.created_at));
    else if (text.startsWith('{')) times = text.split(/\r?\n/).filter((l) => l.trim()).map((l) => toMs(JSON.parse(l).created_at));
    else {
      const lines = text.split(/\r?\n/);
      const col = csvFields(lines[0]).map((h) => h.trim().toLowerCase()).indexOf('created_at');
      if (col < 0) return null;
      times = lines.slice(1).filter((l) => l.trim()).map((l) => toMs(csvFields(l)[col]?.trim()));
    }
  } catch {
    return null;
  }
  const newest = Math.max(...times.filter(Number.isFinite));
  if (!Number.isFinite(newest)) return null;
  return new Date((Math.floor(newest / 3600e3) + 1) * 3600e3).toISOString();
}

// "now" follows the data unless the user set it.
function nowFromData() {
  const asOf = dataAsOf(state.data.transfers);
  if (asOf && !state.nowTouched) setNow(asOf);
}

function projectOptions() {
  const opts = { now: nowIso(), horizon_hours: Number($('horizon').value), method: $('method').value };
  const floors = $('floors').value.trim();
  if (floors) opts.floors = floors;
  if (scenarioActive()) opts.scenario = scenarioObject();
  if (state.currencies) opts.currencies = state.currencies;
  return opts;
}

// A worker keeps the data it was last sent, as soon as a message carrying it
// arrives (superseded or not): send it only when it changed since.
function dataForWorker(c) {
  const d = state.data, s = c.sent;
  const same = s && s.accounts === d.accounts && s.transfers === d.transfers && s.streams === d.streams;
  if (!same) c.sent = { ...d };
  return same ? null : { ...d };
}

let shownFrom = null; // the worker whose projection is on screen

// ---- rule what-ifs worked out on the page ------------------------------------------
// A floor change, or a payment added to or removed from the scenario, of the
// rule answer on screen is worked out here (ruleshift.js) from that answer
// and its rule kit, and drawn in the input's own task: a round trip to the
// worker waited for a core twice, and at load 25-30 up to 7 of 10 floors or
// payments missed the first frame. The worker is still asked: its answer,
// when it comes, must be the same figures (window.fcLocal counts it); if it
// is not, its answer is drawn; if it refuses the input (the page checks what
// the core would refuse, so this is a bug), its sentence is shown and the
// figures marked stale.

// The tenant's account ids (a payment's direction: out of one of them, or into one).
let accountIds = { text: null, set: new Set() };
function tenantAccounts() {
  const a = state.data.accounts;
  if (accountIds.text !== a) {
    // Quoted fields are not split here: no ids then, and payments go to the worker.
    const ids = typeof a === 'string' && !a.includes('"') ? accountsOf(a).map((x) => x.id) : [];
    accountIds = { text: a, set: new Set(ids) };
  }
  return accountIds.set;
}

// The scenario's change from a to b (canonical objects or undefined): the
// transfers added at the end or the one removed, everything else the same;
// null for any other change (the worker answers those).
function scenarioChange(a = {}, b = {}) {
  const { transfers: ta = [], ...ra } = a;
  const { transfers: tb = [], ...rb } = b;
  if (JSON.stringify(ra) !== JSON.stringify(rb)) return null;
  const A = ta.map((t) => JSON.stringify(t)), B = tb.map((t) => JSON.stringify(t));
  const prefix = (n) => A.slice(0, n).every((x, i) => x === B[i]);
  if (B.length >= A.length && prefix(A.length)) return { add: tb.slice(A.length), remove: [] };
  if (A.length === B.length + 1) {
    let i = 0;
    while (i < B.length && A[i] === B[i]) i++;
    if (A.slice(i + 1).every((x, j) => x === B[i + j])) return { add: [], remove: [ta[i]] };
  }
  return null;
}

// The answer to opts worked out from the rule answer on screen, or null.
function ruleLocal(opts) {
  const p = state.result;
  if (!p || p.method !== 'rule' || shownFrom !== workers.rule || !state.resultSnap || (opts.method || 'rule') !== 'rule') return null;
  const prev = JSON.parse(state.resultSnap);
  if (prev.now !== opts.now || prev.horizon_hours !== opts.horizon_hours || (prev.method || 'rule') !== 'rule'
    || prev.currencies !== opts.currencies) return null;
  const kit = workers.rule.kits.get(kitKey(prev));
  const change = kit && scenarioChange(prev.scenario, opts.scenario);
  if (!change || (!change.add.length && !change.remove.length && prev.floors === opts.floors)) return null;
  const r = shiftRule(p, kit.kit, { floors: opts.floors, add: change.add, remove: change.remove, accounts: tenantAccounts() });
  if (!r) return null;
  // The baseline is the same method without the scenario: the answer on screen when it had none.
  const heads = () => ({ method: 'rule', heads: Object.fromEntries(p.currencies.map((c) => [c.currency, c.rule.projected_balance])) });
  const base = !opts.scenario ? null : prev.scenario ? state.baseline : heads();
  if (opts.scenario && !base) return null;
  return { p: r.p, base, kit: r.kit, kitKey: kitKey(opts) };
}

// Draws a local answer at once and asks the worker for its own, to check it (verify).
function fromLocal(c, key, local, opts, scenario) {
  if (local.kit && !c.kits.has(local.kitKey)) keepKit(c, local.kitKey, local.kit, false);
  window.fcLocal.drawn++;
  request('project', { data: null, options: opts, baseline: scenario, key }, c).then((m) => verify(c, m, local, key, opts));
  return { ok: true, local: true, ms: 0, delta_ms: 0, at: null };
}

function verify(c, m, local, key, opts) {
  const stats = window.fcLocal;
  if (m.superseded) {
    stats.unverified++;
    return;
  }
  if (!m.ok) {
    stats.differed.push({ key, error: m.error.message });
    showError(m.error, { stale: true });
    return;
  }
  const { p, base } = projection(c);
  if (JSON.stringify(p) === JSON.stringify(local.p) && JSON.stringify(base) === JSON.stringify(local.base)) {
    stats.agreed++;
    // Held (and kept) as the objects drawn: the worker's next delta then redraws only what it changes.
    for (const x of local.p.currencies) c.held.cur.set(x.currency, x);
    const kept = c.kept.get(key);
    if (kept) kept.p = local.p;
    return;
  }
  stats.differed.push({ key, page: JSON.stringify(local.p), worker: JSON.stringify(p) });
  if (state.result === local.p) present(c, p, base, opts, true);
}

// Puts a projection (and its baseline's headlines) on screen; returns the cards redrawn.
function present(c, p, base, opts, headChanged) {
  state.result = p;
  state.baseline = base;
  state.resultOptions = opts;
  state.resultSnap = JSON.stringify(opts);
  if ($('export').disabled) $('export').disabled = false;
  renderScenario();
  clearError();
  setStale(false);
  const cards = renderCards(p, base, headChanged);
  shownFrom = c;
  if (cards) {
    state.streams = p.currencies.flatMap((x) => x.streams.map((st) => ({ ...st, currency: x.currency })));
    renderRunwaySoon();
  }
  return cards;
}

// Projects the current inputs in the worker (the baseline too when a scenario
// is active: the same method without it). Resolves {ok}, {error} or
// {superseded} (a newer input took over; nothing is drawn).
async function recompute() {
  if (!state.data.accounts) return { skipped: true };
  const opts = projectOptions();
  if (!opts.now) {
    const e = new Error('Set "Now (UTC)" to the time to project from: the transfers give no as-of.');
    showError(e, { stale: true });
    return { error: e };
  }
  if (!Number.isInteger(opts.horizon_hours) || opts.horizon_hours < 1 || opts.horizon_hours > 720) {
    const e = new Error('The horizon must be a whole number of hours from 1 to 720.');
    showError(e, { stale: true });
    return { error: e };
  }
  const scenario = !!opts.scenario;
  const t0 = performance.now();
  const c = workerFor(opts.method);
  const data = dataForWorker(c);
  const key = pageKey(opts, scenario);
  const entry = data === null ? c.kept.get(key) : undefined; // new data: nothing kept is for it
  const local = !entry && data === null && c === workers.rule ? ruleLocal(opts) : null;
  const m = entry ? fromKept(c, key, entry, opts, scenario)
    : local ? fromLocal(c, key, local, opts, scenario)
      : await request('project', { data, options: opts, baseline: scenario, key }, c);
  if (m.superseded) return m;
  if (!m.ok) {
    showError(m.error, { stale: true });
    return { error: m.error };
  }
  const t1 = performance.now();
  const { p, base } = local || projection(c);
  // A worker's delta says whether its top-level fields changed since its own
  // last answer; after the other worker's answers were on screen they all did.
  const headChanged = shownFrom !== c || (local ? p.recommendations !== state.result.recommendations : m.head !== undefined);
  const cards = present(c, p, base, opts, headChanged);
  // The rule worker starts new data waiting for the page's word to look
  // ahead: data it gets later than the load (ML on screen then) gets it too.
  if (data !== null && c === workers.rule) cardsDrawn().then(() => whenIdle(sweepAhead));
  $('meta').textContent = `floatcast ${state.version} · WASM worker · ${p.method} projection`
    + `${base ? ' + baseline' : ''} ${m.kept ? 'made ahead' : m.local ? 'worked out on the page' : `in ${m.ms.toFixed(1)} ms`}`;
  const t2 = performance.now();
  // ms: input to DOM updated; worker_ms: the module's compute; main_ms: drawing here;
  // delta_ms: the worker finding what changed; to_worker/from_worker: the messages' trips
  // (waiting for a CPU included); cards: cards redrawn; kept: answered here from a
  // kept answer (no worker, no trips: those are 0); local: worked out here (ruleshift.js);
  // Set later: frame_ms, input to the start of the frame that shows the figures
  // (at most a frame's interval, 16.7 ms at 60 Hz: the first frame after the
  // input; more: the update missed it); painted_ms, input to the first task
  // after that frame (its style, layout and paint done).
  const at = performance.timeOrigin;
  const rec = { method: p.method, scenario, worker_ms: m.ms, main_ms: t2 - t1, ms: t2 - t0,
    delta_ms: m.delta_ms, to_worker: m.at ? m.at[0] - (at + t0) : 0, from_worker: m.at ? at + t1 - m.at[1] : 0, cards,
    kept: !!m.kept, local: !!m.local, frame_ms: null, painted_ms: null };
  window.fcTimings.projections.push(rec);
  requestAnimationFrame((frameStart) => {
    rec.frame_ms = frameStart - t0;
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { rec.painted_ms = performance.now() - t0; };
    ch.port2.postMessage(0);
  });
  return { ok: true };
}

// Applies a change to the scenario; one the core refuses (an amount typo, an
// unknown transfer id) is undone so the page keeps showing the last good
// scenario, and its sentence stays on screen.
async function changeScenario(fn) {
  const sc = state.scenario;
  const prev = { transfers: [...sc.transfers], cancel: [...sc.cancel], pause: new Set(sc.pause), extra: { ...(sc.extra || {}) } };
  fn(sc);
  const r = await recompute();
  if (r.error && state.scenario === sc) {
    state.scenario = prev;
    renderScenario();
    runwayDrawn = ''; // the clicked box shows the refused change: redraw from the scenario
    renderRunway();
    showError(r.error, { stale: false });
  }
}

// ---- signed in: the tenant's snapshot from the gateway ---------------------

// Shows the signed-in bar (tenant) or the key form.
// sessionStorage remembers only that this tab signed in (the tenant's id, never
// the key), so a reload resumes with the cookie and an anonymous visit asks nothing.
function showSignedIn(tenant) {
  if (tenant !== state.tenant) state.store = scenarioStore(tenant);
  state.tenant = tenant;
  try {
    if (tenant) sessionStorage.setItem('fc-tenant', tenant);
    else sessionStorage.removeItem('fc-tenant');
  } catch {
    // storage disabled: a reload then shows the form
  }
  $('signin').hidden = !!tenant;
  $('signed').hidden = !tenant;
  $('who').textContent = tenant ? `Signed in: tenant ${tenant}` : '';
  document.body.dataset.tenant = tenant || '';
  fillSaved(); // signed in, Refresh also brings scenarios saved in another browser
}

// ---- saved scenarios (scenarios.js): the tenant's at the gateway, or this browser's

const BASELINE = ''; // the compare lists' "no scenario" entry

// Lists the store's scenarios into the three selects (select: the one to show).
async function fillSaved(select) {
  const store = state.store;
  let list = [];
  try {
    list = await store.list();
  } catch (e) {
    showError(e);
  }
  if (store !== state.store) return; // signed in or out meanwhile: that listing is stale
  state.saved = new Map(list.map((s) => [s.name, s.scenario]));
  const names = list.map((s) => s.name);
  const opts = (withBase) => [...(withBase ? [el('option', { value: BASELINE }, 'Baseline (no scenario)')] : []),
    ...names.map((n) => el('option', { value: n }, n))];
  const keep = { saved: $('sc-saved').value, a: $('sc-a').value, b: $('sc-b').value }; // a failed change keeps the choice
  $('sc-saved').replaceChildren(...opts(false));
  $('sc-a').replaceChildren(...opts(true));
  $('sc-b').replaceChildren(...opts(true));
  for (const [id, v] of [['sc-saved', keep.saved], ['sc-a', keep.a], ['sc-b', keep.b]]) if (names.includes(v)) $(id).value = v;
  if (select !== undefined) {
    $('sc-saved').value = select;
    $('sc-b').value = select;
  }
  for (const id of ['sc-apply', 'sc-delete', 'sc-rename']) $(id).disabled = names.length === 0;
  const saved = $('sc-saved').closest('.saved');
  saved.dataset.store = store.where;
  saved.dataset.count = String(names.length);
  $('sc-where').textContent = store.where === 'gateway' ? 'kept by the gateway for this tenant' : 'kept in this browser';
}

// Runs a store change with its buttons disabled, then lists again.
async function storeChange(fn) {
  const ids = ['sc-save', 'sc-apply', 'sc-delete', 'sc-rename'];
  for (const id of ids) $(id).disabled = true;
  let select;
  try {
    select = await fn(state.store);
    clearError();
  } catch (e) {
    showError(e);
  }
  await fillSaved(select);
  $('sc-save').disabled = false;
}

function onSaveScenario() {
  return storeChange((store) => store.save($('sc-name').value, state.scenario));
}

function onRenameScenario() {
  const from = $('sc-saved').value;
  if (!from) return undefined;
  return storeChange((store) => store.rename(from, $('sc-name').value));
}

function onApplyScenario() {
  const saved = state.saved.get($('sc-saved').value);
  if (!saved) return;
  const copy = fromCanonical(toCanonical(saved)); // the list's copy stays as saved
  $('sc-name').value = $('sc-saved').value;
  changeScenario((sc) => {
    sc.transfers = copy.transfers;
    sc.cancel = copy.cancel;
    sc.pause = copy.pause;
    sc.extra = copy.extra;
  });
}

function onDeleteScenario() {
  const name = $('sc-saved').value;
  if (!name) return undefined;
  return storeChange(async (store) => {
    await store.remove(name);
    return undefined;
  });
}

// Two saved scenarios (or the baseline) projected with the page's settings,
// side by side: each currency's headline under A and B and the exact B − A.
async function onCompare() {
  const a = $('sc-a').value, b = $('sc-b').value;
  if (a === b) return showError(new Error('Choose two different scenarios to compare.'));
  if (!state.data.accounts) return showError(new Error('Load data (sign in, files or the demo) before comparing scenarios.'));
  const base = projectOptions();
  delete base.scenario;
  if (!base.now) return showError(new Error('Set "Now (UTC)" to the time to project from.'));
  const withSc = (name) => {
    if (name === BASELINE) return base;
    const sc = state.saved.get(name);
    return sc ? { ...base, scenario: scenarioObject(sc) } : base;
  };
  const c = workerFor(base.method);
  const m = await request('compare', { data: dataForWorker(c), options_a: withSc(a), options_b: withSc(b) }, c);
  if (!m.ok) return showError(m.error);
  clearError();
  renderCompare(a || 'Baseline', b || 'Baseline', JSON.parse(m.json_a), JSON.parse(m.json_b));
  return undefined;
}

function renderCompare(nameA, nameB, pa, pb) {
  const banded = pa.method !== 'rule';
  const head = el('tr', {}, el('th', { scope: 'col' }, 'Currency'), el('th', { scope: 'col', class: 'num' }, nameA),
    el('th', { scope: 'col', class: 'num' }, nameB), el('th', { scope: 'col', class: 'num' }, `${nameB} − ${nameA}`),
    el('th', { scope: 'col' }, 'Risk'));
  const rows = pa.currencies.map((ca) => {
    const cb = pb.currencies.find((c) => c.currency === ca.currency) || ca;
    const ccy = ca.currency;
    const scale = scaleOf(ccy, ca.current_balance);
    const ha = headline(pa, ca), hb = headline(pb, cb);
    const d = toMinor(hb, scale) - toMinor(ha, scale);
    const dText = `${d < 0n ? '−' : d > 0n ? '+' : ''}${amount(fromMinor(d < 0n ? -d : d, scale), ccy)}`;
    const risk = (c) => `${RISK_TEXT[c.depletion.risk] || c.depletion.risk}${banded ? ` (${pct(riskProbability(c).p)})` : ''}`;
    return el('tr', { 'data-currency': ccy, 'data-a': ha, 'data-b': hb, 'data-delta': fromMinor(d, scale) },
      el('th', { scope: 'row' }, ccy), el('td', { class: 'num' }, money(ha, ccy)), el('td', { class: 'num' }, money(hb, ccy)),
      el('td', { class: `num ${d < 0n ? 'down' : d > 0n ? 'up' : ''}` }, dText),
      el('td', {}, `${risk(ca)} → ${risk(cb)}`));
  });
  const caption = el('caption', {}, `${nameA} vs ${nameB}: ${banded ? 'p50 ' : ''}balance in ${pa.horizon_hours} h `
    + `from ${shortTime(pa.as_of)} (${pa.method})`);
  $('compare').replaceChildren(el('table', { class: 'compare-table' }, caption, el('thead', {}, head), el('tbody', {}, ...rows)));
  $('compare').hidden = false;
}

// The tenant's snapshot, fetched and converted by the worker (which keeps it);
// throws the gateway's error (with .status) when it could not be had.
async function fetchSnapshot() {
  const m = await request('snapshot', {});
  if (!m.ok) throw Object.assign(new Error(m.error.message), m.error);
  // The transfers and streams are bytes (worker.js) the page only passes on to the other worker.
  state.data = m.data;
  workers.rule.sent = { ...m.data }; // the rule's worker has it already
  return m.summary;
}

// Puts a snapshot on the page; keepScenario (Refresh) keeps the what-ifs.
function applySnapshot(snap, keepScenario) {
  state.origin = { accounts: 'gateway', transfers: 'gateway', streams: 'gateway' };
  state.currencies = snap.currencies || null;
  for (const k of ['accounts', 'transfers', 'streams']) $(`f-${k}`).value = '';
  showSignedIn(snap.tenant_id);
  $('source').textContent = `Tenant "${snap.tenant_id}" from the gateway: ${snap.accounts} accounts, `
    + `${snap.transfers} transfers (${snap.pending} pending), ${snap.streams} streams; `
    + `as of ${snap.as_of ? shortTime(snap.as_of) : 'no transfers yet'}, fetched ${shortTime(snap.generated_at)}.`;
  if (!keepScenario) {
    state.nowTouched = false;
    state.scenario = { transfers: [], cancel: [], pause: new Set() };
  }
  if (snap.as_of && !state.nowTouched) setNow(snap.as_of);
  const from = nowIso();
  if (from && !keepScenario) $('wi-when').value = new Date(Date.parse(from) + 24 * 3600e3).toISOString().slice(0, 16);
  fillAccounts();
  if (!snap.accounts) {
    showError(new Error('This tenant has no accounts yet: send them to POST /v1/accounts, then Refresh.'));
    return Promise.resolve({ skipped: true });
  }
  return recompute().then(async (r) => {
    r.firstAt = performance.now(); // the riskiest card drawn (the others follow a frame each)
    // After the first projection is on screen: sign-in pays nothing for them
    // (the ML fit takes a core for 0.2-2 s: not while the cards are drawn).
    await cardsDrawn();
    if (r.ok) whenIdle(warmMl);
    if (r.ok) whenIdle(warmDraw);
    if (r.ok) whenIdle(sweepAhead);
    whenIdle(loadTrackPanel);
    return r;
  });
}

// The first what-if after the data loads ran the cards' update code for the
// first time (the first projection only made them): its main-thread task
// took 13-15 ms of CPU against about 4 for the next ones (a Chromium trace
// under load), and with ten what-ifs that one is the p90. So once the cards
// are first drawn (signed in, or the demo loaded offline), in idle time, a
// detached copy of each currency's card is drawn and updated to the
// projection cut one hour short (never attached, then dropped): the update
// path has run before the user's first what-if (3.7-4.7 ms of CPU for it
// then, as for the others). One card per idle callback; once per page.
function warmDraw() {
  const p = state.result;
  const next = p && p.currencies.find((c) => c.path.length > 2 && !warmDraw.done.has(c.currency));
  if (!next) return;
  warmDraw.done.add(next.currency);
  const v = cardView();
  v.update(p, next, null);
  v.update({ ...p, horizon_hours: p.horizon_hours - 1 }, { ...next, path: next.path.slice(0, -1) }, null);
  whenIdle(warmDraw);
}
warmDraw.done = new Set();

// ---- forecast vs actual (track.js): signed in only -------------------------------

const trackChart = trackView();
let trackList = []; // the recorded projections of the chosen currency and method, newest first
let trackSeq = 0; // a newer load supersedes an older one

const whenIdle = (fn) => (window.requestIdleCallback ? requestIdleCallback(() => fn(), { timeout: 1000 }) : setTimeout(fn, 50));

// The snapshot's currencies and scales ("USD=2,USDC=6") as [code, scale] pairs.
const currencyScales = () => (state.currencies || '').split(',').filter(Boolean).map((p) => {
  const [c, s] = p.split('=');
  return [c, Number(s)];
});

// Loads the tenant's recorded projections of the chosen currency and method.
async function loadTrackPanel() {
  $('track-panel').hidden = !state.tenant;
  if (!state.tenant) return;
  const ccys = currencyScales();
  const sel = $('track-ccy');
  const keep = sel.value;
  if ([...sel.options].map((o) => o.value).join() !== ccys.map(([c]) => c).join()) {
    sel.replaceChildren(...ccys.map(([c]) => el('option', { value: c }, c)));
    if (ccys.some(([c]) => c === keep)) sel.value = keep;
  }
  if (!sel.value) return trackChart.clear('The tenant has no currencies yet.');
  const seq = ++trackSeq;
  let doc;
  try {
    doc = await loadTrack(sel.value, $('track-method').value, 10);
  } catch (e) {
    if (seq === trackSeq) trackChart.clear(`The recorded projections could not be read: ${e.message}`);
    return undefined;
  }
  if (seq !== trackSeq) return undefined;
  trackList = doc.projections;
  const pick = $('track-pick');
  pick.replaceChildren(...trackList.map((p, i) => el('option', { value: String(i) },
    `${shortTime(p.as_of)} · ${realizedStats(p).realized} of ${p.horizon} h arrived`)));
  // The newest projection with arrived hours says the most; else the newest.
  pick.value = String(Math.max(0, trackList.findIndex((p) => realizedStats(p).realized > 0)));
  drawTrack();
  return undefined;
}

function drawTrack() {
  const p = trackList[Number($('track-pick').value)];
  const ccy = $('track-ccy').value, method = $('track-method').value;
  if (!p) {
    return trackChart.clear(`The gateway has served no ${method} projection of ${ccy} yet: projections asked of `
      + 'the API (GET /v1/reports/treasury/projection) are kept, and drawn here against the balances as they arrive.');
  }
  const scale = (currencyScales().find(([c]) => c === ccy) || [ccy, 2])[1];
  return trackChart.update(p, ccy, method, (v) => amount(numToDecimal(v, scale), ccy));
}

// A signed-in fetch failed: an ended session shows the key form again.
function gatewayFailed(e) {
  if (e.status === 401) showSignedIn(null);
  showError(e, { stale: !!state.result });
}

async function onSignIn(ev) {
  ev.preventDefault();
  const input = $('key');
  const key = input.value;
  input.value = ''; // the key is not kept: not in the field, not in storage
  const t0 = performance.now();
  $('signin-button').disabled = true;
  try {
    await signIn(key);
    const r = await applySnapshot(await fetchSnapshot(), false);
    await cardsDrawn();
    if (r.ok) {
      window.fcTimings.signin_first = r.firstAt - t0;
      window.fcTimings.signin = performance.now() - t0;
    }
  } catch (e) {
    gatewayFailed(e);
  } finally {
    $('signin-button').disabled = false;
  }
}

async function onRefresh() {
  try {
    await applySnapshot(await fetchSnapshot(), true);
  } catch (e) {
    gatewayFailed(e);
  }
}

async function onSignOut() {
  try {
    await signOut();
  } catch {
    // Already ended (expired, revoked) or unreachable: signed out here either way.
  }
  showSignedIn(null);
  $('track-panel').hidden = true;
  trackList = [];
  trackChart.clear('Signed out.');
  state.data = { accounts: null, transfers: null, streams: null };
  state.origin = { accounts: null, transfers: null, streams: null };
  state.currencies = null;
  state.result = null;
  state.baseline = null;
  state.streams = [];
  state.scenario = { transfers: [], cancel: [], pause: new Set() };
  clearCards();
  shownFrom = null; // the recommendations are cleared: the next answer redraws them
  for (const id of ['alerts', 'recs', 'wi-list', 'wi-account']) $(id).replaceChildren();
  $('runway').querySelector('tbody').replaceChildren();
  $('export').disabled = true;
  clearError();
  setStale(false);
  $('source').textContent = 'Signed out. Sign in again, choose the three CSV files, or load the demo tenant.';
}

// A session cookie from an earlier sign-in still valid: open on the tenant's data.
async function resumeSession() {
  let was = null;
  try {
    was = sessionStorage.getItem('fc-tenant');
  } catch {
    was = null;
  }
  if (!was) return;
  try {
    await applySnapshot(await fetchSnapshot(), false);
  } catch {
    showSignedIn(null); // not signed in, or no gateway behind this page: the form and offline modes
  }
}

async function readFile(input, kind) {
  const f = input.files[0];
  if (!f) return;
  state.data[kind] = await f.text();
  state.origin[kind] = 'file';
  state.source = 'files';
  if (kind === 'accounts') fillAccounts();
  if (kind === 'transfers') nowFromData();
  // Name only what files supplied: a file over the demo replaces one input, the rest stays the demo's.
  const kinds = ['accounts', 'transfers', 'streams'];
  const files = kinds.filter((k) => state.origin[k] === 'file');
  const demo = kinds.filter((k) => state.origin[k] === 'demo');
  const gw = kinds.filter((k) => state.origin[k] === 'gateway');
  $('source').textContent = `Loaded from files: ${files.join(', ')}.`
    + (demo.length ? ` From the demo: ${demo.join(', ')}.` : '')
    + (gw.length ? ` From the gateway (tenant ${state.tenant}): ${gw.join(', ')}.` : '')
    + (state.data.accounts ? '' : ' Accounts are needed to project.');
  const r = await recompute();
  await cardsDrawn();
  if (r.ok) whenIdle(warmMl);
  if (r.ok) whenIdle(sweepAhead);
}

async function loadDemo() {
  const m = await request('demo', { options: { seed: 42 } });
  if (!m.ok) return showError(m.error);
  const d = m.demo;
  state.currencies = null;
  state.data = { accounts: d.accounts, transfers: d.transfers, streams: d.streams };
  state.origin = { accounts: 'demo', transfers: 'demo', streams: 'demo' };
  for (const k of ['accounts', 'transfers', 'streams']) $(`f-${k}`).value = '';
  const n = (csv) => csv.trim().split('\n').length - 1;
  $('source').textContent = `Demo tenant "${d.tenant_id}" (seed ${d.seed}): ${n(d.accounts)} accounts, `
    + `${n(d.transfers)} transfers, ${n(d.streams)} streams, history to ${shortTime(d.now)}.`;
  state.nowTouched = false;
  nowFromData();
  const from = nowIso() || d.now;
  $('wi-when').value = new Date(Date.parse(from) + 24 * 3600e3).toISOString().slice(0, 16);
  state.scenario = { transfers: [], cancel: [], pause: new Set() };
  fillAccounts();
  const r = await recompute();
  await cardsDrawn();
  if (r.ok) whenIdle(warmMl);
  if (r.ok) whenIdle(warmDraw);
  if (r.ok) whenIdle(sweepAhead);
  return r;
}

function wire() {
  $('signin').addEventListener('submit', onSignIn);
  $('refresh').addEventListener('click', onRefresh);
  $('signout').addEventListener('click', onSignOut);
  $('sc-save').addEventListener('click', onSaveScenario);
  $('sc-apply').addEventListener('click', onApplyScenario);
  $('sc-delete').addEventListener('click', onDeleteScenario);
  $('sc-rename').addEventListener('click', onRenameScenario);
  $('track').append(trackChart.node);
  $('track-ccy').addEventListener('change', loadTrackPanel);
  $('track-method').addEventListener('change', loadTrackPanel);
  $('track-pick').addEventListener('change', drawTrack);
  $('sc-compare').addEventListener('click', onCompare);
  for (const k of ['accounts', 'transfers', 'streams']) $(`f-${k}`).addEventListener('change', (ev) => readFile(ev.target, k));
  $('demo').addEventListener('click', loadDemo);
  $('export').addEventListener('click', exportCsv);
  $('wi-add').addEventListener('click', addPayment);
  $('method').addEventListener('change', recompute);
  $('wi-cancel').addEventListener('click', () => {
    const id = $('wi-cancel-id').value.trim();
    if (id && !state.scenario.cancel.includes(id)) changeScenario((sc) => sc.cancel.push(id));
  });
  $('wi-reset').addEventListener('click', () => {
    state.scenario = { transfers: [], cancel: [], pause: new Set() };
    recompute();
  });
  $('now').addEventListener('input', () => {
    state.nowTouched = $('now').value !== '';
    recompute();
  });
  $('floors').addEventListener('input', recompute);
  $('horizon').addEventListener('input', () => {
    $('horizon-range').value = $('horizon').value;
    recompute();
  });
  $('horizon-range').addEventListener('input', () => {
    $('horizon').value = $('horizon-range').value;
    recompute();
  });
  for (const th of $('runway').querySelectorAll('th[data-key]')) {
    th.addEventListener('click', () => {
      const key = th.dataset.key;
      state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
      renderRunway();
    });
  }
}

updateBusy();
wire();
fillSaved();
try {
  state.version = await ready;
  $('meta').textContent = `floatcast ${state.version} · WASM worker ready`;
  await resumeSession();
  document.body.setAttribute('data-module', 'ready');
} catch (e) {
  $('meta').textContent = 'Module failed to load';
  showError(e);
}

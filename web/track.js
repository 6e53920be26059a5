// track.js: the forecast-vs-actual chart. Signed in, the gateway keeps every
// live projection it served (GET /v1/treasury/track): a projection's p10–p90
// band and p50 line are drawn as they were served, and the balance that
// actually arrived in each closed hour as a line of dots over them, on a time
// axis in the browser's zone. A read-out follows the pointer, or the arrow
// keys with the chart focused: the hour, p50, band and actual, and whether the
// actual fell inside the band. The chart's summary (aria-label and the line
// under it) says how many hours are realized, how many fell inside the band
// and the mean absolute error of p50.
import { compact, el, fmtFull, HOUR, niceTicks, svg, tickLabel, timeTicks, zoneTitle } from './draw.js';

const W = 640, H = 220, L = 54, R = 12, T = 10, B = 174;

// The realized figures of a tracked projection: hours realized, inside the band, MAE of p50.
export function realizedStats(proj) {
  const done = proj.path.filter((q) => q.actual !== null);
  const inside = done.filter((q) => q.actual >= q.p10 && q.actual <= q.p90).length;
  const mae = done.length ? done.reduce((s, q) => s + Math.abs(q.actual - q.p50), 0) / done.length : null;
  return { realized: done.length, inside, mae };
}

// A view to update with (projection, currency, method, fmt): fmt(value) formats an
// amount of the currency; or to clear with a sentence saying why it is empty.
export function trackView() {
  const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart track-chart', role: 'img', tabindex: '0' });
  const grid = svg('g', { class: 'y-grid' });
  const axis = svg('g', { class: 'x-time' });
  const band = svg('polygon', { class: 'band' });
  const p50 = svg('polyline', { class: 'line' });
  const actual = svg('polyline', { class: 'actual' });
  const dots = svg('g', { class: 'actual-dots' });
  const guide = svg('line', { y1: T, y2: B, class: 'cursor', visibility: 'hidden' });
  s.append(grid, axis, band, p50, actual, dots, guide);
  const idle = 'Point at the chart, or focus it and use ← →, to read an hour.';
  const out = el('p', { class: 'readout', 'aria-live': 'polite' }, idle);
  const summary = el('p', { class: 'track-summary' });
  let v = null, at = 0;

  const show = (i) => {
    const { proj, x, fmt, ccy } = v;
    const n = proj.path.length;
    at = Math.max(0, Math.min(n - 1, i));
    const q = proj.path[at];
    guide.setAttribute('x1', x(at));
    guide.setAttribute('x2', x(at));
    guide.setAttribute('visibility', 'visible');
    const when = fmtFull.format(new Date(Date.parse(q.at)));
    const banded = q.p10 !== q.p90;
    const verdict = q.actual === null ? 'not arrived yet'
      : `actual ${fmt(q.actual)} ${ccy}${banded ? (q.actual >= q.p10 && q.actual <= q.p90 ? ', inside the band' : ', outside the band') : ''}`;
    out.replaceChildren(el('strong', {}, `${when} (+${at + 1} h)`), el('span', {}, `p50 ${fmt(q.p50)} ${ccy}`),
      banded ? el('span', {}, `p10–p90 ${fmt(q.p10)} – ${fmt(q.p90)}`) : null, el('span', { class: 'r-actual' }, verdict));
    out.dataset.hour = String(at + 1);
    out.dataset.actual = q.actual === null ? '' : String(q.actual);
  };
  const hide = () => {
    guide.setAttribute('visibility', 'hidden');
    out.replaceChildren(idle);
    delete out.dataset.hour;
    delete out.dataset.actual;
  };
  s.addEventListener('pointermove', (ev) => {
    if (!v) return;
    const r = s.getBoundingClientRect();
    show(Math.round(((((ev.clientX - r.left) / r.width) * W - L) / (W - L - R)) * (v.proj.path.length - 1)));
  });
  s.addEventListener('pointerleave', () => (document.activeElement === s ? show(at) : hide()));
  s.addEventListener('focus', () => v && show(at));
  s.addEventListener('blur', hide);
  s.addEventListener('keydown', (ev) => {
    if (!v) return;
    const step = { ArrowRight: 1, ArrowLeft: -1, PageDown: 24, PageUp: -24 }[ev.key];
    if (step) show(at + step);
    else if (ev.key === 'Home') show(0);
    else if (ev.key === 'End') show(v.proj.path.length - 1);
    else if (ev.key === 'Escape') s.blur();
    else return;
    ev.preventDefault();
  });

  function update(proj, ccy, method, fmt) {
    const path = proj.path, n = path.length;
    let lo = Infinity, hi = -Infinity;
    for (const q of path) {
      lo = Math.min(lo, q.p10, q.p50, q.actual ?? Infinity);
      hi = Math.max(hi, q.p90, q.p50, q.actual ?? -Infinity);
    }
    const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 1;
    lo -= pad;
    hi += pad;
    const x = (i) => L + (i / Math.max(1, n - 1)) * (W - L - R);
    const y = (val) => T + (1 - (val - lo) / (hi - lo)) * (B - T);
    const xy = (val, i) => `${x(i).toFixed(1)},${y(val).toFixed(1)}`;
    v = { proj, x, fmt, ccy };
    const t0 = Date.parse(path[0].at);
    const zone = zoneTitle(t0, n - 1);
    grid.replaceChildren(...niceTicks(lo, hi).flatMap((val) => [
      svg('line', { x1: L, x2: W - R, y1: y(val), y2: y(val), class: 'grid' }),
      svg('text', { x: L - 4, y: y(val) + 3.5, class: 'y-tick' }, compact(val).replace(/\.0+(?=[kM]?$)/, ''))]));
    axis.replaceChildren(svg('line', { x1: L, x2: W - R, y1: B, y2: B, class: 'x-axis' }),
      ...timeTicks(t0, n).flatMap((i) => [svg('line', { x1: x(i), x2: x(i), y1: B, y2: B + 3, class: 'tick' }),
        svg('text', { x: x(i), y: B + 16, class: 'x-tick', 'data-hour': i + 1 }, tickLabel(t0 + i * HOUR))]),
      svg('text', { x: (L + W - R) / 2, y: H - 4, class: 'axis-title' }, `Time (${zone})`));
    band.setAttribute('points', [...path.map((q, i) => xy(q.p90, i)), ...path.map((q, i) => xy(q.p10, i)).reverse()].join(' '));
    p50.setAttribute('points', path.map((q, i) => xy(q.p50, i)).join(' '));
    const done = path.map((q, i) => [q, i]).filter(([q]) => q.actual !== null);
    actual.setAttribute('points', done.map(([q, i]) => xy(q.actual, i)).join(' '));
    dots.replaceChildren(...done.map(([q, i]) => svg('circle', { cx: x(i), cy: y(q.actual), r: 2.5, class: 'actual-dot', 'data-hour': i + 1 })));
    const st = realizedStats(proj);
    const banded = path.some((q) => q.p10 !== q.p90);
    const words = st.realized === 0 ? `no hour of it has closed yet`
      : `${st.realized} of ${n} hours have arrived`
        + (banded ? `; the actual balance was inside the p10–p90 band in ${st.inside} of them` : '')
        + `; p50 was off by ${fmt(st.mae)} ${ccy} on average`;
    const from = fmtFull.format(new Date(Date.parse(proj.as_of)));
    s.setAttribute('aria-label', `${ccy} ${method} projection served for ${from} `
      + `(${zone}), ${n} hours: ${words}. Use the arrow keys to read each hour.`);
    s.dataset.asOf = proj.as_of;
    s.dataset.realized = String(st.realized);
    s.dataset.inside = String(st.inside);
    summary.textContent = `Projection from ${from}: ${words}.`;
    if (out.dataset.hour) show(at);
  }

  function clear(message) {
    v = null;
    for (const g of [grid, axis, dots]) g.replaceChildren();
    for (const e of [band, p50, actual]) e.setAttribute('points', '');
    s.setAttribute('aria-label', message);
    delete s.dataset.asOf;
    s.dataset.realized = '0';
    summary.textContent = message;
    hide();
  }

  return { node: el('div', { class: 'chart-wrap' }, s, out, summary), update, clear };
}

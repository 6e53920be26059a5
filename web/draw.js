// draw.js: what the page's views share: HTML and SVG elements, times in the
// browser's zone (the treasurer's) with their UTC offset, the time axis's
// ticks and labels, round value ticks and compact amounts. No state but a
// cache of tick labels.

// An element with attributes (class, data-*, aria-* as attributes; others as
// properties) and children (nulls skipped).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-') || k.startsWith('aria-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

const SVG = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// Times are shown in the browser's time zone (the treasurer's), labelled with its UTC offset.
const TZ = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
const fmtHour = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const fmtDay = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric' });
export const fmtFull = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short',
  hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
export const HOUR = 3600e3;

export function utcOffset(ms) {
  const m = -new Date(ms).getTimezoneOffset();
  const a = Math.abs(m);
  return `UTC${m < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

// "Europe/Paris, UTC+01:00" (both offsets when the horizon crosses a change of summer time).
export function zoneTitle(t0, hours) {
  const a = utcOffset(t0), b = utcOffset(t0 + hours * HOUR);
  return `${TZ}, ${a === b ? a : `${a} → ${b}`}`;
}

// ISO 8601 in local time with its offset: 2025-12-01T07:00:00-05:00.
export function localIso(ms) {
  const d = new Date(ms);
  const p = (v) => String(v).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:00${utcOffset(ms).slice(3)}`;
}

// The path hours that get a time label: local hours on a multiple of the
// step, or every (step / 24)th local midnight; at most about seven labels.
export function timeTicks(t0, n) {
  const step = [1, 2, 3, 6, 12, 24, 48, 72, 168, 336].find((s) => (n - 1) / s <= 7) ?? 336;
  const ticks = [];
  let days = 0;
  for (let i = 0; i < n; i++) {
    const d = new Date(t0 + i * HOUR);
    if (d.getMinutes() !== 0) {
      if (i % step === 0) ticks.push(i); // a zone with a half-hour offset: hours from now
    } else if (step < 24 ? d.getHours() % step === 0 : d.getHours() === 0 && days++ % (step / 24) === 0) {
      ticks.push(i);
    }
  }
  return ticks.length ? ticks : [0];
}

// Remembered per hour: a horizon what-if redraws every chart's axis, and
// Intl's formatting was most of that redraw.
const tickLabels = new Map();
export function tickLabel(ms) {
  if (tickLabels.has(ms)) return tickLabels.get(ms);
  const d = new Date(ms);
  const part = (type) => fmtDay.formatToParts(d).find((x) => x.type === type)?.value;
  const text = d.getHours() !== 0 || d.getMinutes() !== 0 ? fmtHour.format(d)
    : `${part('weekday')} ${part('day')}`; // "Tue 2" whatever the locale's order
  if (tickLabels.size > 5000) tickLabels.clear();
  tickLabels.set(ms, text);
  return text;
}

// About n round values covering [lo, hi].
export function niceTicks(lo, hi, n = 4) {
  const raw = (hi - lo) / n || 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let k = Math.ceil(lo / step); k * step <= hi; k++) out.push(k * step);
  return out;
}

// 1.23M, 45.6k, 789: a value axis label.
export function compact(v) {
  return Math.abs(v) >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : Math.abs(v) >= 1e3 ? `${(v / 1e3).toFixed(1)}k` : v.toFixed(0);
}

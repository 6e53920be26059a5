// page_test.mjs: the Treasury page in headless Chromium (playwright-core).
//
// Serves web/ (and the freshly built module from FC_WASM_DIR) on 127.0.0.1,
// loads the page (the module runs in its Web Worker), clicks "Load demo
// data" and checks the cards (data-currency, data-risk, ordered by risk), the
// at-risk banner and the runway table against the same projection computed
// by the module in node; then aria-busy around a computation, the what-if
// controls (horizon, floors, refused floors in plain sentences, a scenario
// and its exact delta), the ML method (headline p50, delta = p50(scenario) -
// p50(baseline)), the charts (local-time axis, floor, band, breach marker,
// scheduled transfers, hover and keyboard read-outs), Export CSV and the table sort. Saves a screenshot to FC_SHOT. Exits 77 (ctest: skipped) when
// playwright-core is not installed (cd tests/wasm && npm install).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch {
  console.log('SKIP: playwright-core is not installed (cd tests/wasm && npm install)');
  process.exit(77);
}
const wasmDir = process.env.FC_WASM_DIR;
const webDir = process.env.FC_WEB_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../web');
const browserPath = process.env.FC_CHROMIUM || '/usr/bin/chromium';
const shot = process.env.FC_SHOT || path.join(os.tmpdir(), 'floatcast-page.png');
if (!wasmDir) throw new Error('FC_WASM_DIR is not set');
if (!fs.existsSync(browserPath)) {
  console.log(`SKIP: no browser at ${browserPath}`);
  process.exit(77);
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.wasm': 'application/wasm', '.ts': 'text/plain' };

// Module files come from the build; the rest from web/.
function serve(req, res) {
  const name = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
  if (name.includes('..') || name.includes('/')) { res.writeHead(404).end(); return; }
  const base = name.startsWith('floatcast') ? wasmDir : webDir;
  fs.readFile(path.join(base, name), (err, body) => {
    if (err) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(name)] || 'application/octet-stream' }).end(body);
  });
}

const server = http.createServer(serve);
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const url = `http://127.0.0.1:${server.address().port}/index.html`;

// The expected figures: the same module, in node.
const fc = await (await import(pathToFileURL(path.join(wasmDir, 'floatcast.mjs')).href)).default();
const demo = fc.demo({ seed: 42 });
const expected = fc.project(demo, { now: demo.now, horizon_hours: 48 });

// The page's conventions, restated: money with the currency's decimals (those
// of its decimal strings) and en-US grouping; exact deltas in minor units.
const scaleOf = (text) => (String(text).split('.')[1] || '').length;
const fmtAt = (text, scale) => new Intl.NumberFormat('en-US', { minimumFractionDigits: scale, maximumFractionDigits: scale }).format(String(text));
const minor = (text, scale) => {
  const neg = String(text).startsWith('-');
  const [i, f = ''] = String(text).replace(/^-/, '').split('.');
  const v = BigInt(i + (f + '0'.repeat(scale)).slice(0, scale));
  return neg ? -v : v;
};
const RANK = { high: 0, medium: 1, low: 2 };
const p48 = (c) => c.depletion.probability['48h'] ?? 0;
const ttb = (c) => c.depletion.time_to_breach_hours.p50 ?? c.depletion.time_to_breach_hours.p10 ?? Infinity;
const riskOrder = (cs) => cs.map((c, i) => ({ c, i })).sort((a, b) => RANK[a.c.depletion.risk] - RANK[b.c.depletion.risk]
  || p48(b.c) - p48(a.c) || ttb(a.c) - ttb(b.c) || a.i - b.i).map((x) => x.c.currency);
const atRiskOrder = (cs) => riskOrder(cs.filter((c) => c.depletion.risk !== 'low'));
// The charts: times in the browser's zone (the context's, below), labelled with its offset.
const TZ = 'America/New_York';
const nyHour = (ms) => Number(new Intl.DateTimeFormat('en-US', { timeZone: TZ, hour: 'numeric', hourCycle: 'h23' }).format(ms));
const nyDay = (ms) => new Intl.DateTimeFormat('en-US', { timeZone: TZ, day: 'numeric' }).format(ms);
// Each card's chart as drawn: its labels, floor, band, markers.
const charts = (page) => page.$$eval('#cards .card', (cs) => cs.map((c) => {
  const s = c.querySelector('svg.chart');
  const attr = (sel, a) => [...s.querySelectorAll(sel)].map((e) => e.getAttribute(a));
  return { ccy: c.dataset.currency, role: s.getAttribute('role'), label: s.getAttribute('aria-label'), tabindex: s.getAttribute('tabindex'),
    xTicks: [...s.querySelectorAll('.x-tick')].map((t) => ({ hour: Number(t.dataset.hour), text: t.textContent })),
    yTicks: s.querySelectorAll('.y-tick').length, title: s.querySelector('.axis-title')?.textContent,
    floors: attr('line.floor', 'y1'), bands: s.querySelectorAll('.band').length,
    sched: [...s.querySelectorAll('.sched')].map((m) => `${m.dataset.hour}:${m.classList.contains('out') ? 'out' : 'in'}`),
    breach: attr('.breach', 'data-hour').map(Number) };
}));
const schedOf = (cur) => cur.path.flatMap((q) => [...(q.scheduled_out > 0 ? [`${q.hour}:out`] : []), ...(q.scheduled_in > 0 ? [`${q.hour}:in`] : [])]);
// The read-out of a card's chart once it shows an hour (optionally a given one).
const readout = async (page, ccy, hour) => {
  const sel = `#cards .card[data-currency="${ccy}"] .readout`;
  await page.waitForFunction(([q, h]) => {
    const r = document.querySelector(q);
    return r && r.dataset.hour !== undefined && (h === null || r.dataset.hour === String(h));
  }, [sel, hour ?? null]);
  return page.$eval(sel, (r) => ({ hour: Number(r.dataset.hour), p50: r.dataset.p50, text: r.innerText }));
};
// A downloaded CSV's comment lines and rows (no quoted fields in these).
const parseCsv = (text) => {
  const lines = text.split(/\r?\n/).filter((l) => l);
  const comments = lines.filter((l) => l.startsWith('#'));
  const [head, ...rows] = lines.filter((l) => !l.startsWith('#')).map((l) => l.split(','));
  return { comments, rows: rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]]))) };
};
// Waits until main is not busy, having seen it busy since mark() (a
// MutationObserver records every value, so a fast computation is not missed).
const mark = (page) => page.evaluate(() => {
  window.__busy = [];
  window.__busyObs?.disconnect();
  window.__busyObs = new MutationObserver(() => window.__busy.push(document.querySelector('main').getAttribute('aria-busy')));
  window.__busyObs.observe(document.querySelector('main'), { attributes: true, attributeFilter: ['aria-busy'] });
});
const settled = async (page) => {
  await page.waitForFunction(() => window.__busy.includes('true') && document.querySelector('main').getAttribute('aria-busy') === 'false');
};

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: browserPath, headless: true, viewport: { width: 1280, height: 1000 }, timeout: 120000,
  timezoneId: TZ, locale: 'en-US', acceptDownloads: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  // Every wait below polls until its condition holds; these are deadlines
  // for a busy machine (CI's two shared cores), not expected durations.
  page.setDefaultTimeout(120000);
  page.setDefaultNavigationTimeout(120000);
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  await page.goto(url);
  await page.waitForSelector('body[data-module="ready"]');
  assert.equal(await page.getAttribute('main', 'aria-busy'), 'false', 'idle before any data');
  await mark(page);
  await page.click('#demo');
  await page.waitForSelector('#cards[data-ready="1"] .card');
  await settled(page);
  // "now" is the data's as-of (the hour after the newest transfer), not the wall clock.
  assert.equal(await page.inputValue('#now'), demo.now.slice(0, 16), 'now defaults to the data as-of');

  // One card per currency, ordered by risk, each with data-currency, data-risk and its figures.
  const cards = await page.$$eval('#cards .card', (cs) => cs.map((c) => ({
    ccy: c.dataset.currency, risk: c.dataset.risk, text: c.innerText, hasChart: !!c.querySelector('svg polyline') })));
  assert.deepEqual(cards.map((c) => c.ccy), riskOrder(expected.currencies), 'cards ordered by risk');
  for (const c of cards) {
    const cur = expected.currencies.find((x) => x.currency === c.ccy);
    const sc = scaleOf(cur.current_balance);
    assert.equal(c.risk, cur.depletion.risk, `${c.ccy} data-risk`);
    assert.ok(c.text.includes(fmtAt(cur.current_balance, sc)), `${c.ccy} card shows ${fmtAt(cur.current_balance, sc)}:\n${c.text}`);
    assert.ok(c.text.includes(fmtAt(cur.rule.projected_balance, sc)), `${c.ccy} card shows the projected balance`);
    assert.ok(c.text.includes('Projected in 48 h'));
    assert.ok(c.hasChart, `${c.ccy} card has a chart`);
  }

  // Each chart: an image with a summary, focusable; local-time labels under a
  // title with the zone and offset; value labels; the floor; the scheduled transfers on the axis.
  const t0 = Date.parse(expected.as_of);
  for (const ch of await charts(page)) {
    const cur = expected.currencies.find((c) => c.currency === ch.ccy);
    assert.equal(ch.role, 'img', `${ch.ccy} chart role`);
    assert.equal(ch.tabindex, '0', `${ch.ccy} chart focusable`);
    assert.match(ch.label, new RegExp(`^${ch.ccy} balance over the next 48 hours.*floor`), `${ch.ccy} aria-label: ${ch.label}`);
    assert.equal(ch.title, 'Time (America/New_York, UTC-05:00)', `${ch.ccy} axis title`);
    assert.ok(ch.xTicks.length >= 3 && ch.yTicks >= 2, `${ch.ccy} axis labels: ${JSON.stringify(ch.xTicks)}`);
    for (const t of ch.xTicks) {
      const ms = t0 + t.hour * 3600e3;
      if (/^\d\d:00$/.test(t.text)) assert.equal(Number(t.text.slice(0, 2)), nyHour(ms), `${ch.ccy} label ${t.text} at +${t.hour} h`);
      else assert.ok(nyHour(ms) === 0 && t.text.endsWith(` ${nyDay(ms)}`), `${ch.ccy} day label ${t.text} at +${t.hour} h`);
    }
    assert.equal(ch.floors.length, 1, `${ch.ccy} floor line`);
    assert.deepEqual(ch.sched, schedOf(cur), `${ch.ccy} scheduled transfers on the axis`);
  }
  assert.ok(schedOf(expected.currencies.find((c) => c.currency === 'USD')).includes('28:in'), 'the demo has a scheduled receipt');
  const nStreams = expected.currencies.reduce((n, c) => n + c.streams.length, 0);
  assert.ok(nStreams > 0);
  assert.equal(await page.$$eval('#runway tbody tr', (r) => r.length), nStreams);

  // Sorting by runway: ascending, then descending on a second click.
  const hours = () => page.$$eval('#runway tbody tr td:nth-child(4)', (tds) => tds.map((t) => (t.textContent === '∞' ? Infinity : Number(t.textContent))));
  await page.click('#runway th[data-key="hours"]');
  let h = await hours();
  assert.deepEqual(h, [...h].sort((a, b) => b - a), 'second click on the sorted column: descending');
  await page.click('#runway th[data-key="hours"]');
  h = await hours();
  assert.deepEqual(h, [...h].sort((a, b) => a - b), 'ascending');

  // What-if: a 24 h horizon recomputes in the worker; main is busy meanwhile.
  await mark(page);
  await page.fill('#horizon', '24');
  await page.waitForFunction(() => document.querySelector('#cards .card')?.innerText.includes('Projected in 24 h'));
  await settled(page);
  const p24 = fc.project(demo, { now: demo.now, horizon_hours: 24 });
  const c24 = p24.currencies.find((c) => c.currency === riskOrder(p24.currencies)[0]);
  const first = await page.$eval('#cards .card', (c) => c.innerText);
  const fmt24 = fmtAt(c24.rule.projected_balance, scaleOf(c24.current_balance));
  assert.ok(first.includes(fmt24), `24 h projection ${fmt24} shown`);

  // Refused floors: a plain sentence (never "EPARSE: ..." or "options: ..."), and the figures marked stale.
  const plainly = async (re) => {
    await page.waitForSelector('#error:not([hidden])');
    await page.waitForFunction((src) => new RegExp(src).test(document.querySelector('#error').textContent), re.source);
    const text = await page.textContent('#error');
    assert.doesNotMatch(text, /\b(EPARSE|ERANGE|EINVAL|ENOTFOUND)\b|options:/, `plain sentence, got "${text}"`);
    return text;
  };
  await page.fill('#floors', 'USDC=abc');
  await plainly(/floors could not be read/);
  await page.waitForSelector('#cards[data-stale]');
  await page.fill('#floors', 'USDC=-5');
  const neg = await plainly(/cannot be negative/);
  assert.match(neg, /A floor cannot be negative/);
  assert.ok(await page.isVisible('#stale-note'), 'the old projection is marked stale');
  await page.fill('#floors', 'USDC=99999999999999999999999999');
  await plainly(/larger than any balance/);
  await page.fill('#floors', 'USDC=200000');
  await page.waitForSelector('#error', { state: 'hidden' });
  await page.waitForSelector('#cards:not([data-stale])');
  await page.fill('#horizon', '48');
  await page.waitForFunction(() => document.querySelector('#cards .card')?.innerText.includes('Projected in 48 h'));

  // Alerts first: the banner lists the at-risk currencies, most likely breach
  // first, with probability, breach time range and drivers; that currency's card leads.
  const floors = 'USDC=200000';
  const pr = fc.project(demo, { now: demo.now, horizon_hours: 48, floors });
  const atRisk = atRiskOrder(pr.currencies);
  assert.ok(atRisk.length > 0, 'the demo with a USDC floor has a currency at risk');
  await page.waitForFunction((n) => document.querySelectorAll('#alerts ol > li').length === n, atRisk.length);
  assert.deepEqual(await page.$$eval('#alerts ol > li', (l) => l.map((x) => x.dataset.currency)), atRisk, 'banner order');
  assert.equal(await page.$eval('#cards .card', (c) => c.dataset.currency), atRisk[0], 'the at-risk card first');
  // The breach marker: at the first hour whose p50 is below the floor, and only there.
  for (const ch of await charts(page)) {
    const cur = pr.currencies.find((c) => c.currency === ch.ccy);
    const first = cur.path.findIndex((q) => q.p50 < Number(cur.depletion.floor));
    assert.deepEqual(ch.breach, first >= 0 ? [first] : [], `${ch.ccy} breach marker`);
  }
  // The keyboard read-out: focus the chart, arrow right three hours.
  const usdcPr = pr.currencies.find((c) => c.currency === 'USDC');
  await page.focus('#cards .card[data-currency="USDC"] svg.chart');
  assert.equal((await readout(page, 'USDC', 0)).p50, String(usdcPr.path[0].p50), 'focus reads hour 0');
  for (let k = 0; k < 3; k++) await page.keyboard.press('ArrowRight');
  const ro = await readout(page, 'USDC', 3);
  assert.equal(ro.p50, String(usdcPr.path[3].p50), 'read-out p50 is the path value at +3 h');
  assert.ok(ro.text.includes(`p50 ${fmtAt(usdcPr.path[3].p50.toFixed(6), 6)} USDC`) && ro.text.includes('(+3 h)')
    && /above the floor|below the floor/.test(ro.text) && !/null|undefined|NaN/.test(ro.text), `read-out text:\n${ro.text}`);
  await page.keyboard.press('End');
  assert.equal((await readout(page, 'USDC', 48)).p50, String(usdcPr.path[48].p50), 'End reads the last hour');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => document.querySelector('#cards .card[data-currency="USDC"] .readout').dataset.hour === undefined);

  const lead = pr.currencies.find((c) => c.currency === atRisk[0]);
  const alert = await page.$eval('#alerts ol > li', (l) => l.innerText);
  assert.ok(alert.includes(`${Math.round(lead.depletion.probability['48h'] * 100)}% chance`), `probability in the banner:\n${alert}`);
  for (const d of lead.depletion.drivers.slice(0, 3)) assert.ok(alert.includes(d.text), `driver "${d.text}" in the banner`);
  assert.match(alert, /Expected breach (at|between|from) \d{4}-\d\d-\d\d \d\d:\d\d UTC/);

  // What-if scenario: a 50,000.00 USD payment tomorrow and st-001 paused. The
  // USD card must show the scenario's figure (from the module in node) and
  // the exact difference against the baseline; a typo'd amount is refused and undone.
  const usdAcct = 'acc-usd-operating|USD';
  await page.selectOption('#wi-account', usdAcct);
  await page.fill('#wi-amount', '50000.00');
  await page.fill('#wi-when', '2025-12-02T09:00');
  await page.click('#wi-add');
  await page.waitForSelector('#wi-list li:nth-child(1)');
  await page.click('#runway input[data-stream="st-001"]');
  await page.waitForSelector('#wi-list li:nth-child(2)');
  await page.waitForFunction(() => document.querySelector('main').getAttribute('aria-busy') === 'false');
  const scen = {
    transfers: [{ id: 'whatif-1', from_account_id: 'acc-usd-operating', to_account_id: 'whatif-payee-1', currency: 'USD',
      amount: '50000.00', status: 'pending', created_at: demo.now, scheduled_for: '2025-12-02T09:00:00Z' }],
    pause_streams: ['st-001'],
  };
  const pw = fc.project(demo, { now: demo.now, horizon_hours: 48, floors, scenario: scen });
  const usdW = pw.currencies.find((c) => c.currency === 'USD');
  const usdB = pr.currencies.find((c) => c.currency === 'USD');
  const usdCard = await page.$eval('#cards .card[data-currency="USD"]', (c) => c.innerText);
  assert.ok(usdCard.includes(fmtAt(usdW.rule.projected_balance, 2)), `USD card shows the scenario's figure:\n${usdCard}`);
  assert.ok(usdCard.includes('50,000.00 vs baseline'), `USD card shows the difference:\n${usdCard}`);
  const ruleDelta = minor(usdW.rule.projected_balance, 2) - minor(usdB.rule.projected_balance, 2);
  assert.equal(await page.getAttribute('#cards .card[data-currency="USD"]', 'data-delta'),
    `${ruleDelta < 0n ? '-' : ''}${(ruleDelta < 0n ? -ruleDelta : ruleDelta).toString().replace(/(\d\d)$/, '.$1')}`, 'exact rule delta');
  await page.fill('#wi-amount', '12,5');
  await page.click('#wi-add');
  await plainly(/not a number the page can use/);
  assert.equal(await page.$$eval('#wi-list li', (l) => l.length), 2, 'the refused payment is not kept');

  // The ML method with the scenario still on: every figure of a card is the
  // ML answer's, and the delta is p50(scenario) - p50(baseline), both ML.
  await page.selectOption('#method', 'ml');
  await page.waitForFunction(() => document.querySelector('#meta')?.textContent.includes('ml projection + baseline'));
  await page.waitForFunction(() => document.querySelector('main').getAttribute('aria-busy') === 'false');
  const mlB = fc.project(demo, { now: demo.now, horizon_hours: 48, floors, method: 'ml' });
  const mlS = fc.project(demo, { now: demo.now, horizon_hours: 48, floors, method: 'ml', scenario: scen });
  for (const ccy of ['USD', 'USDC']) {
    const s = mlS.currencies.find((c) => c.currency === ccy);
    const b = mlB.currencies.find((c) => c.currency === ccy);
    const sc = scaleOf(s.current_balance);
    const hs = s.path[48].p50.toFixed(sc), hb = b.path[48].p50.toFixed(sc);
    const d = minor(hs, sc) - minor(hb, sc);
    const sel = `#cards .card[data-currency="${ccy}"]`;
    assert.equal(await page.getAttribute(sel, 'data-risk'), s.depletion.risk, `${ccy} ML risk`);
    assert.equal(await page.getAttribute(sel, 'data-headline'), hs, `${ccy} headline is the ML p50`);
    const dText = await page.getAttribute(sel, 'data-delta');
    assert.equal(minor(dText, sc), d, `${ccy} delta = p50(scenario) - p50(baseline): ${dText}`);
    const text = await page.$eval(sel, (c) => c.innerText);
    assert.ok(text.includes(`Projected p50 in 48 h`) && text.includes(fmtAt(hs, sc)), `${ccy} p50 headline:\n${text}`);
    if (d !== 0n) {
      const abs = (d < 0n ? -d : d).toString().padStart(sc + 1, '0');
      assert.ok(text.includes(`${fmtAt(`${abs.slice(0, -sc)}.${abs.slice(-sc)}`, sc)} vs baseline`), `${ccy} delta shown:\n${text}`);
    }
  }

  // Back to the rule with the inputs it last projected: the rule's
  // recommendations again, not the ML ones on screen. Each method has its
  // worker, whose answer is a delta against its own last one: here no
  // top-level field of the rule's answer changed since it.
  const ruleS = fc.project(demo, { now: demo.now, horizon_hours: 48, floors, scenario: scen });
  const recText = (p) => p.recommendations.map((r) => `Move ${fmtAt(r.amount, scaleOf(r.amount))} ${r.from_currency} → ${r.to_currency}`);
  const recsShown = () => page.$$eval('#recs li.rec strong', (l) => l.map((x) => x.textContent));
  assert.deepEqual(await recsShown(), recText(mlS), 'the ML recommendations on screen');
  assert.notDeepEqual(recText(ruleS), recText(mlS), 'the rule and ML recommendations differ here');
  await page.selectOption('#method', 'rule');
  await page.waitForFunction(() => document.querySelector('#cards')?.dataset.method === 'rule'
    && document.querySelector('main').getAttribute('aria-busy') === 'false');
  assert.deepEqual(await recsShown(), recText(ruleS), 'the rule recommendations after ML');
  await page.selectOption('#method', 'ml');
  await page.waitForFunction(() => document.querySelector('#cards')?.dataset.method === 'ml'
    && document.querySelector('main').getAttribute('aria-busy') === 'false');
  assert.deepEqual(await recsShown(), recText(mlS), 'the ML recommendations again');

  // Export CSV: the projection on screen (ML, with the scenario) and the scenario JSON as a comment.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  assert.match(dl.suggestedFilename(), /^floatcast-.*-ml\.csv$/);
  const csv = parseCsv(fs.readFileSync(await dl.path(), 'utf8'));
  const scLine = csv.comments.find((l) => l.startsWith('# scenario: '));
  assert.ok(scLine, `scenario comment: ${csv.comments}`);
  assert.deepEqual(JSON.parse(scLine.slice('# scenario: '.length)), scen, 'the scenario JSON');
  assert.equal(csv.rows.length, mlS.currencies.reduce((n, c) => n + c.path.length, 0), 'a row per currency and hour');
  for (const c of mlS.currencies) {
    const rows = csv.rows.filter((r) => r.currency === c.currency);
    assert.deepEqual(rows.map((r) => Number(r.p50)), c.path.map((q) => q.p50), `${c.currency} p50 column`);
    assert.deepEqual(rows.map((r) => [Number(r.p10), Number(r.p90), Number(r.scheduled_out), Number(r.scheduled_in), Number(r.stream_drain)]),
      c.path.map((q) => [q.p10, q.p90, q.scheduled_out, q.scheduled_in, q.stream_drain]), `${c.currency} other columns`);
    assert.deepEqual(rows.map((r) => Date.parse(r.time)), c.path.map((q) => Date.parse(q.at)), `${c.currency} times`);
  }
  assert.match(csv.rows[0].time, /-05:00$/, 'times in the browser zone with their offset');

  // Offline (the demo): saved scenarios stay in this browser, as the canonical
  // what-if; rename and delete there too.
  const localSaved = async () => JSON.parse(await page.evaluate(() => localStorage.getItem('fc-scenarios:offline')) || '{}');
  assert.equal(await page.getAttribute('.saved', 'data-store'), 'browser', 'offline: this browser keeps scenarios');
  const savedBefore = Object.keys(await localSaved()).length;
  await page.fill('#sc-name', 'Offline one');
  await page.click('#sc-save');
  await page.waitForFunction((n) => document.querySelector('.saved').dataset.count === String(n), savedBefore + 1);
  assert.deepEqual((await localSaved())['Offline one'].scenario, scen, 'kept as the canonical what-if');
  await page.selectOption('#sc-saved', 'Offline one');
  await page.fill('#sc-name', 'Offline renamed');
  await page.click('#sc-rename');
  await page.waitForFunction(() => [...document.querySelectorAll('#sc-saved option')].some((o) => o.value === 'Offline renamed'));
  const renamed = await localSaved();
  assert.ok(!('Offline one' in renamed) && renamed['Offline renamed'], 'renamed in the browser');
  await page.selectOption('#sc-saved', 'Offline renamed');
  await page.click('#sc-delete');
  await page.waitForFunction((n) => document.querySelector('.saved').dataset.count === String(n), savedBefore);
  assert.ok(!('Offline renamed' in await localSaved()), 'deleted from the browser');

  // ML without the scenario: bands, the flow model, recommendations with probabilities before -> after.
  await mark(page);
  await page.click('#wi-reset');
  await page.waitForFunction(() => /ml projection in/.test(document.querySelector('#meta')?.textContent));
  await settled(page);
  const usdcMl = mlB.currencies.find((c) => c.currency === 'USDC');
  const usdcCard = await page.$eval('#cards .card[data-currency="USDC"]', (c) => c.innerText);
  const lastMl = usdcMl.path[48];
  assert.ok(usdcCard.includes(`${fmtAt(lastMl.p10.toFixed(6), 6)} – ${fmtAt(lastMl.p90.toFixed(6), 6)}`), `USDC band shown:\n${usdcCard}`);
  assert.ok(usdcCard.includes('flow-sim'), `model named:\n${usdcCard}`);
  assert.equal(await page.$$eval('#cards svg .band', (b) => b.length), mlB.currencies.filter((c) => c.path.some((p) => p.p10 !== p.p90)).length, 'a band per banded card');
  // ML: every chart has its band; hovering reads the hour under the pointer.
  for (const ch of await charts(page)) assert.equal(ch.bands, 1, `${ch.ccy} band`);
  const usdcSvg = await page.$('#cards .card[data-currency="USDC"] svg.chart');
  const box = await usdcSvg.boundingBox();
  await usdcSvg.hover({ position: { x: box.width * 0.6, y: box.height * 0.4 } });
  const hov = await readout(page, 'USDC');
  const q = usdcMl.path[hov.hour];
  assert.ok(hov.hour > 0 && hov.hour < 48, `hovered hour ${hov.hour}`);
  assert.equal(hov.p50, String(q.p50), `hover read-out p50 = path p50 at +${hov.hour} h`);
  assert.ok(hov.text.includes(`p50 ${fmtAt(q.p50.toFixed(6), 6)}`) && hov.text.includes(`p10–p90 ${fmtAt(q.p10.toFixed(6), 6)} – ${fmtAt(q.p90.toFixed(6), 6)}`)
    && !/null|undefined|NaN/.test(hov.text), `hover read-out text:\n${hov.text}`);
  await page.mouse.move(0, 0);
  await page.waitForFunction(() => document.querySelector('#cards .card[data-currency="USDC"] .readout').dataset.hour === undefined);
  if (mlB.recommendations.length) {
    const r = mlB.recommendations[0];
    const rec = await page.$eval('#recs li', (l) => l.innerText);
    assert.ok(rec.includes(`Move ${fmtAt(r.amount, scaleOf(r.amount))} ${r.from_currency}`), `recommendation amount:\n${rec}`);
    assert.ok(rec.includes(`${Math.round(r.probability_before * 100)}% → ${Math.round(r.probability_after * 100)}%`), `before -> after:\n${rec}`);
  }

  // Newer inputs supersede older ones: only the last horizon is drawn.
  for (const v of ['30', '31', '32']) await page.fill('#horizon', v);
  await page.waitForFunction(() => document.querySelector('#cards .card')?.innerText.includes('Projected p50 in 32 h')
    && document.querySelector('main').getAttribute('aria-busy') === 'false');
  await page.fill('#horizon', '48');
  await page.waitForFunction(() => document.querySelector('#cards .card')?.innerText.includes('Projected p50 in 48 h')
    && document.querySelector('main').getAttribute('aria-busy') === 'false');

  // Two currencies at risk (ML): GBP comes before USDC in the core's order,
  // but USDC's breach is the more likely, so the banner and the cards lead with it.
  const floors2 = 'USDC=200000,GBP=200000';
  const ml2 = fc.project(demo, { now: demo.now, horizon_hours: 48, floors: floors2, method: 'ml' });
  const atRisk2 = atRiskOrder(ml2.currencies);
  assert.ok(atRisk2.length >= 2, `two currencies at risk: ${atRisk2}`);
  await page.fill('#floors', floors2);
  await page.waitForFunction((n) => document.querySelectorAll('#alerts ol > li').length === n
    && document.querySelector('main').getAttribute('aria-busy') === 'false', atRisk2.length);
  assert.deepEqual(await page.$$eval('#alerts ol > li', (l) => l.map((x) => x.dataset.currency)), atRisk2, 'banner: most likely breach first');
  assert.deepEqual(await page.$$eval('#cards .card', (cs) => cs.map((c) => c.dataset.currency)), riskOrder(ml2.currencies), 'cards by risk');
  assert.deepEqual(await page.$$eval('#cards .card', (cs) => cs.map((c) => c.dataset.risk)),
    riskOrder(ml2.currencies).map((c) => ml2.currencies.find((x) => x.currency === c).depletion.risk), 'data-risk of each card');

  // Upload mode: the same data as three files; "now" follows the transfers' as-of.
  await page.selectOption('#method', 'rule');
  await page.fill('#now', '');
  for (const k of ['accounts', 'streams', 'transfers']) {
    await page.setInputFiles(`#f-${k}`, { name: `${k}.csv`, mimeType: 'text/csv', buffer: Buffer.from(demo[k]) });
  }
  await page.waitForFunction(() => /Loaded from files: accounts, transfers, streams/.test(document.querySelector('#source').textContent));
  assert.equal(await page.inputValue('#now'), demo.now.slice(0, 16), 'now from the uploaded transfers');
  const up = fc.project(demo, { now: demo.now, horizon_hours: 48, floors: floors2 });
  const upUsd = up.currencies.find((c) => c.currency === 'USD').rule.projected_balance;
  await page.waitForFunction((want) => document.querySelector('#cards[data-method="rule"] .card[data-currency="USD"]')?.dataset.headline === want
    && document.querySelector('main').getAttribute('aria-busy') === 'false', upUsd);
  await page.selectOption('#method', 'ml');
  await page.waitForFunction(() => document.querySelector('#cards')?.dataset.method === 'ml'
    && document.querySelector('main').getAttribute('aria-busy') === 'false');

  // Other files loaded while ML is on screen reach the rule worker only at the
  // switch back to the rule; it looks ahead around the horizon from there all
  // the same (a jump of seven hours answered on the page, with its figures).
  const other = fc.demo({ seed: 7 });
  for (const k of ['accounts', 'streams', 'transfers']) {
    await page.setInputFiles(`#f-${k}`, { name: `${k}.csv`, mimeType: 'text/csv', buffer: Buffer.from(other[k]) });
  }
  await page.waitForFunction(() => document.querySelector('#cards')?.dataset.method === 'ml'
    && document.querySelector('main').getAttribute('aria-busy') === 'false');
  const otherNow = `${await page.inputValue('#now')}:00Z`;
  await page.selectOption('#method', 'rule');
  await page.waitForFunction(() => document.querySelector('#cards')?.dataset.method === 'rule'
    && document.querySelector('main').getAttribute('aria-busy') === 'false');
  await page.waitForFunction(() => window.fcKeptFor(41), null, { polling: 100 });
  const before41 = await page.evaluate(() => window.fcTimings.projections.length);
  await page.fill('#horizon', '41');
  await page.waitForFunction((k) => window.fcTimings.projections.length > k
    && document.querySelector('main').getAttribute('aria-busy') === 'false', before41);
  assert.equal(await page.evaluate(() => window.fcTimings.projections.at(-1).kept), true, 'the jump is answered on the page');
  const o41 = fc.project(other, { now: otherNow, horizon_hours: 41, floors: floors2 });
  for (const c of o41.currencies) {
    assert.equal(await page.getAttribute(`#cards .card[data-currency="${c.currency}"]`, 'data-headline'), c.rule.projected_balance,
      `${c.currency} headline of the other files at 41 h`);
  }

  await page.screenshot({ path: shot, fullPage: true });
  assert.deepEqual(problems, [], 'no page errors');
  console.log(`ok: ${cards.length} cards, ${nStreams} streams, ${atRisk.length} then ${atRisk2.length} at risk, upload mode; screenshot ${shot}`);
} finally {
  await ctx.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}

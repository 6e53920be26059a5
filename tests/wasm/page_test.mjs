// page_test.mjs: the Treasury page in headless Chromium (playwright-core).
//
// Serves web/ (and the freshly built module from FC_WASM_DIR) on 127.0.0.1,
// loads the page, clicks "Load demo data" and checks the cards and the
// runway table against the same projection computed by the module in node;
// then the what-if controls (horizon, floors, a bad floors spec) and the
// table sort. Saves a screenshot to FC_SHOT. Exits 77 (ctest: skipped) when
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

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: browserPath, headless: true, viewport: { width: 1280, height: 1000 }, timeout: 120000,
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
  await page.click('#demo');
  await page.waitForSelector('#cards[data-ready="1"] .card');

  // One card per currency, in the core's order, each showing its figures.
  const cards = await page.$$eval('#cards .card', (cs) => cs.map((c) => ({
    ccy: c.dataset.currency, text: c.innerText, hasChart: !!c.querySelector('svg polyline') })));
  assert.deepEqual(cards.map((c) => c.ccy), expected.currencies.map((c) => c.currency));
  for (const [i, c] of cards.entries()) {
    const cur = expected.currencies[i];
    const fmt = (t) => Number(t).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    assert.ok(c.text.includes(fmt(cur.current_balance)), `${c.ccy} card shows ${fmt(cur.current_balance)}:\n${c.text}`);
    assert.ok(c.text.includes(fmt(cur.rule.projected_balance)), `${c.ccy} card shows the projected balance`);
    assert.ok(c.text.includes('Projected in 48 h'));
    assert.ok(c.hasChart, `${c.ccy} card has a chart`);
  }
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

  // What-if: a 24 h horizon recomputes at once.
  await page.fill('#horizon', '24');
  await page.waitForFunction(() => document.querySelector('#cards .card')?.innerText.includes('Projected in 24 h'));
  const p24 = fc.project(demo, { now: demo.now, horizon_hours: 24 });
  const first = await page.$eval('#cards .card', (c) => c.innerText);
  const fmt24 = Number(p24.currencies[0].rule.projected_balance).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  assert.ok(first.includes(fmt24), `24 h projection ${fmt24} shown`);

  // A bad floors spec shows the core's message; fixing it clears it.
  await page.fill('#floors', 'USDC=abc');
  await page.waitForSelector('#error:not([hidden])');
  const msg = await page.textContent('#error');
  let coreMsg = '';
  try { fc.project(demo, { now: demo.now, horizon_hours: 24, floors: 'USDC=abc' }); } catch (e) { coreMsg = e.message; }
  assert.ok(coreMsg && msg.includes(coreMsg), `error box shows "${coreMsg}", got "${msg}"`);
  await page.fill('#floors', 'USDC=200000');
  await page.waitForSelector('#error', { state: 'hidden' });
  await page.fill('#horizon', '48');
  await page.waitForFunction(() => document.querySelector('#cards .card')?.innerText.includes('Projected in 48 h'));

  // What-if scenario: a 50,000.00 USD payment tomorrow and st-001 paused. The
  // USD card must show the scenario's figure (from the module in node) and
  // the difference against the baseline; a typo'd amount is refused and undone.
  const usdAcct = 'acc-usd-operating|USD';
  await page.selectOption('#wi-account', usdAcct);
  await page.fill('#wi-amount', '50000.00');
  await page.fill('#wi-when', '2025-12-02T09:00');
  await page.click('#wi-add');
  await page.click('#runway input[data-stream="st-001"]');
  await page.waitForSelector('#wi-list li:nth-child(2)');
  const scen = {
    transfers: [{ id: 'whatif-1', from_account_id: 'acc-usd-operating', to_account_id: 'whatif-payee-1', currency: 'USD',
      amount: '50000.00', status: 'pending', created_at: demo.now, scheduled_for: '2025-12-02T09:00:00Z' }],
    pause_streams: ['st-001'],
  };
  const pw = fc.project(demo, { now: demo.now, horizon_hours: 48, floors: 'USDC=200000', scenario: scen });
  const usdW = pw.currencies.find((c) => c.currency === 'USD').rule.projected_balance;
  const usdCard = await page.$eval('#cards .card[data-currency="USD"]', (c) => c.innerText);
  const fmt = (v) => Number(v).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  assert.ok(usdCard.includes(fmt(usdW)), `USD card shows the scenario's ${fmt(usdW)}:\n${usdCard}`);
  assert.ok(usdCard.includes('50,000.00 vs baseline'), `USD card shows the difference:\n${usdCard}`);
  await page.fill('#wi-amount', '12,5');
  await page.click('#wi-add');
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.textContent('#error'), /amount/);
  assert.equal(await page.$$eval('#wi-list li', (l) => l.length), 2, 'the refused payment is not kept');

  // The ML method: cards get a p10-p90 band and the model's backtest; the
  // USDC card's p50 at +48 h equals the module's own ML answer.
  await page.click('#wi-reset');
  await page.selectOption('#method', 'ml');
  await page.waitForFunction(() => document.querySelector('#meta')?.textContent.includes('ml projection'), null, { timeout: 300000 });
  const pml = fc.project(demo, { now: demo.now, horizon_hours: 48, floors: 'USDC=200000', method: 'ml' });
  const usdcMl = pml.currencies.find((c) => c.currency === 'USDC');
  const usdcCard = await page.$eval('#cards .card[data-currency="USDC"]', (c) => c.innerText);
  const lastMl = usdcMl.path[48];
  assert.ok(usdcCard.includes(`${fmt(String(lastMl.p10))} – ${fmt(String(lastMl.p90))}`), `USDC band shown:\n${usdcCard}`);
  assert.ok(usdcCard.includes('gbdt'), 'model named');
  assert.ok(usdcCard.includes(`Projected p50 in 48 h`) && usdcCard.includes(fmt(String(lastMl.p50))), 'p50 headline');
  assert.equal(await page.$$eval('#cards svg .band', (b) => b.length), pml.currencies.length, 'one band per card');

  await page.screenshot({ path: shot, fullPage: true });
  assert.deepEqual(problems, [], 'no page errors');
  console.log(`ok: ${cards.length} cards, ${nStreams} streams; screenshot ${shot}`);
} finally {
  await ctx.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}

// chromium_time.mjs: the ml projection's timings in Chromium (the target: at most 150 ms in WASM under
// Chromium), the same calls as wasm_time.mjs makes under node, on the page's main thread.
//   NODE_PATH=tests/wasm/node_modules node --no-experimental-fetch tests/bench/projection/chromium_time.mjs build-wasm/wasm
// Needs playwright-core (cd tests/wasm && npm install) and /usr/bin/chromium (FC_CHROMIUM to change).
// Prints one JSON line: the first call (fits and calibrates the flow model, then projects), then
// medians of 9 projections of 96 h reusing the fitted model and of 9 what-ifs (a paused stream).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.join(process.cwd(), 'tests/wasm/package.json'));
const { chromium } = require('playwright-core');
const dir = process.argv[2];
const browserPath = process.env.FC_CHROMIUM || '/usr/bin/chromium';
if (!dir || !fs.existsSync(path.join(dir, 'floatcast.mjs'))) throw new Error('usage: chromium_time.mjs WASM_DIR');

const page = `<!doctype html><meta charset="utf-8"><title>floatcast timing</title>
<script>window.addEventListener('error', (e) => { window.__result = { error: String(e.message) }; });
window.addEventListener('unhandledrejection', (e) => { window.__result = { error: String(e.reason) }; });</script>
<script type="module">
import init from './floatcast.mjs';
const fc = await init();
const d = fc.demo({ seed: 42, history_days: 30 });
const opts = { now: d.now, method: 'ml', horizon_hours: 96 };
const t = () => performance.now();
const a = t(); fc.projectJSON(d, opts); const first = t() - a;
const runs = (o, n) => { const v = []; for (let i = 0; i < n; i++) { const s = t(); fc.projectJSON(d, o); v.push(t() - s); }
  v.sort((x, y) => x - y); return v[Math.floor(n / 2)]; };
const p96 = runs(opts, 9);
const w96 = runs({ ...opts, scenario: { pause_streams: ['st-001'] } }, 9);
const w48 = runs({ ...opts, horizon_hours: 48, scenario: { pause_streams: ['st-001'] } }, 9);
window.__result = { first_fit_and_project_ms: first.toFixed(1), project_96h_median_ms: p96.toFixed(1),
  whatif_96h_median_ms: w96.toFixed(1), whatif_48h_median_ms: w48.toFixed(1), browser: navigator.userAgent };
</script>`;
const TYPES = { '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
const server = http.createServer((req, res) => {
  const name = new URL(req.url, 'http://x').pathname.replace(/^\/+/, '');
  if (name === 'bench.html') { res.writeHead(200, { 'Content-Type': 'text/html' }).end(page); return; }
  if (!/^floatcast[a-z_]*\.(mjs|wasm)$/.test(name)) { res.writeHead(404).end(); return; }
  res.writeHead(200, { 'Content-Type': TYPES[path.extname(name)] }).end(fs.readFileSync(path.join(dir, name)));
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, { executablePath: browserPath, headless: true });
try {
  const tab = await ctx.newPage();
  await tab.goto(`http://127.0.0.1:${server.address().port}/bench.html`);
  // Polls until the module has answered (by volume of work, not a fixed wait).
  await tab.waitForFunction(() => window.__result, null, { timeout: 600000, polling: 100 });
  const result = await tab.evaluate(() => window.__result);
  console.log(JSON.stringify(result));
  if (result.error) process.exitCode = 1;
} finally {
  await ctx.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}

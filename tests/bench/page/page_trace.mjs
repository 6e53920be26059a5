// page_trace.mjs: the Treasury page's main thread under a what-if series, for
// comparing two versions of web/ in the same conditions (docs/benchmarks.md,
// the signed-in page's timings). Not a test: it asserts nothing and prints figures.
//
//   FC_GATEWAY=build/bin/floatcast-gateway FC_WASM_DIR=build-wasm/wasm \
//   FC_WEB_DIR=web node tests/bench/page/page_trace.mjs [trace.json]
//
// Starts the gateway (--seed-demo) serving FC_WEB_DIR with the built module,
// signs in with the demo key in headless Chromium (phase "signin": to every
// card drawn; phase "idle": from there until the ML worker's warm-up is done,
// with the stream table and the forecast-vs-actual panel), and under a
// Chromium trace runs 10 horizon changes and 10 USDC floor changes (in-page input events), 6
// what-if payments (playwright clicks), 4 more horizon changes, then ML and 9
// ML what-ifs. Prints each phase's what-if times (input event to DOM, from
// window.fcTimings) and its main-thread tasks: how many, how many over 50 ms
// of wall time, over 16 and 50 ms of thread CPU time, the largest CPU time
// and the CPU summed. Runs of two web/ versions should be interleaved (the
// machine's load moves the wall times several-fold). Needs playwright-core
// (tests/wasm: npm install) and chromium.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';

const here = path.dirname(new URL(import.meta.url).pathname);
const { chromium } = createRequire(path.resolve(here, '../../wasm/package.json'))('playwright-core');
const webSrc = process.env.FC_WEB_DIR || path.resolve(here, '../../../web');
const wasmDir = process.env.FC_WASM_DIR;
const gatewayBin = process.env.FC_GATEWAY;
if (!wasmDir || !gatewayBin) throw new Error('set FC_WASM_DIR and FC_GATEWAY');
const traceOut = process.argv[2];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-page-trace-'));
const webDir = path.join(tmp, 'web');
fs.mkdirSync(webDir);
for (const f of fs.readdirSync(webSrc)) if (!f.startsWith('floatcast') && !f.startsWith('.')) fs.copyFileSync(path.join(webSrc, f), path.join(webDir, f));
for (const f of fs.readdirSync(wasmDir)) if (/^floatcast.*\.(mjs|wasm)$/.test(f)) fs.copyFileSync(path.join(wasmDir, f), path.join(webDir, f));
const proc = spawn(gatewayBin, ['--listen', '127.0.0.1:0', '--db', path.join(tmp, 'gw.db'), '--web', webDir, '--seed-demo', '--quiet'],
  { stdio: ['ignore', 'pipe', 'inherit'] });
const gw = await new Promise((ok) => {
  let base, key;
  readline.createInterface({ input: proc.stdout }).on('line', (l) => {
    const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)\/$/.exec(l);
    if (m) base = m[1];
    const k = /^demo key .*: (fc_[0-9a-f_]+)$/.exec(l);
    if (k) key = k[1];
    if (/^Treasury page/.test(l)) ok({ base, key });
  });
});
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, { executablePath: process.env.FC_CHROMIUM || '/usr/bin/chromium',
  headless: true, viewport: { width: 1280, height: 1000 }, timezoneId: 'UTC', locale: 'en-US',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'] });
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(120000);
  await page.goto(`${gw.base}/`);
  await page.waitForSelector('body[data-module="ready"]');
  const cdp = await ctx.newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  const complete = new Promise((ok) => cdp.on('Tracing.tracingComplete', ok));
  await cdp.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: ['toplevel', 'devtools.timeline',
    'disabled-by-default-devtools.timeline', 'v8.execute', 'blink.user_timing'] } });
  const after = async (action) => {
    const n = await page.evaluate(() => window.fcTimings.projections.length);
    await action();
    await page.waitForFunction((k) => window.fcTimings.projections.length > k
      && document.querySelector('main').getAttribute('aria-busy') === 'false', n);
    return page.evaluate(() => ({ ...window.fcTimings.projections.at(-1), index: window.fcTimings.projections.length - 1 }));
  };
  const input = (id, value) => page.evaluate(([i, v]) => {
    const e = document.getElementById(i);
    e.value = v;
    e.dispatchEvent(new Event('input', { bubbles: true }));
  }, [id, value]);
  const mark = (s) => page.evaluate((x) => performance.mark(x), s);
  const phases = {};
  await mark('signin');
  await page.fill('#key', gw.key);
  await page.click('#signin-button');
  await page.waitForFunction(() => window.fcTimings.signin !== null && document.querySelector('main').getAttribute('aria-busy') === 'false');
  phases.signin = [{ ms: await page.evaluate(() => window.fcTimings.signin) }];
  const signinFirst = await page.evaluate(() => window.fcTimings.signin_first);
  // The ML worker's fit after sign-in (web/ versions that warm it): the series
  // starts when it is done, as a user's first what-if comes seconds after
  // sign-in; a what-if meanwhile is not blocked by it (another worker) but
  // shares the cores. Older versions have no warm-up: no wait.
  // Phase "idle": from the sign-in's last card to the warm-up's end (the
  // table's rows, the forecast-vs-actual panel, the ML worker's fit).
  await mark('idle');
  await page.waitForFunction(() => window.fcTimings.warm !== null);
  const warm = await page.evaluate(() => window.fcTimings.warm);
  phases.idle = [{ ms: warm?.ms ?? 0 }];
  await mark('horizon');
  // FC_CPU_PROFILE=file: a V8 CPU profile of the page's main thread over the horizon series.
  if (process.env.FC_CPU_PROFILE) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    await cdp.send('Profiler.start');
  }
  phases.horizon = [];
  for (let i = 0; i < 10; i++) phases.horizon.push(await after(() => input('horizon', String(40 + i))));
  if (process.env.FC_CPU_PROFILE) fs.writeFileSync(process.env.FC_CPU_PROFILE, JSON.stringify((await cdp.send('Profiler.stop')).profile));
  await mark('floors');
  phases.floors = [];
  for (let i = 0; i < 10; i++) phases.floors.push(await after(() => input('floors', `USDC=${200000 + i * 1000}`)));
  await mark('payments');
  phases.payments = [];
  await page.selectOption('#wi-account', 'acc-usd-operating|USD');
  await page.fill('#wi-amount', '50000.00');
  await page.fill('#wi-when', '2025-12-02T09:00');
  for (let i = 0; i < 6; i++) phases.payments.push(await after(() => page.click('#wi-add')));
  for (let i = 0; i < 4; i++) phases.payments.push(await after(() => input('horizon', String(44 + i))));
  await mark('ml');
  phases.ml = [await after(() => page.selectOption('#method', 'ml'))];
  for (let i = 0; i < 8; i++) phases.ml.push(await after(() => input('horizon', String(40 + i))));
  phases.ml.push(await after(() => page.click('#wi-reset')));
  await mark('end');
  // painted_ms is set a frame after each what-if: read them once all are.
  await page.waitForFunction(() => window.fcTimings.projections.every((t) => t.painted_ms !== null && t.painted_ms !== undefined));
  const painted = await page.evaluate(() => window.fcTimings.projections.map((t) => [t.frame_ms, t.painted_ms]));
  for (const list of Object.values(phases)) for (const t of list) if (t.index !== undefined) [t.frame_ms, t.painted_ms] = painted[t.index];
  await cdp.send('Tracing.end');
  await complete;
  if (traceOut) fs.writeFileSync(traceOut, JSON.stringify({ traceEvents: events }));

  const main = new Set(events.filter((e) => e.name === 'thread_name' && e.args.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const on = events.filter((e) => main.has(`${e.pid}:${e.tid}`));
  const at = (n) => on.find((e) => e.name === n && /user_timing/.test(e.cat))?.ts;
  const tasks = on.filter((e) => e.ph === 'X' && e.name === 'ThreadControllerImpl::RunTask');
  const q = (xs, r) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * r))];
  const f = (x) => (x === undefined ? '-' : x.toFixed(1));
  const names = Object.keys(phases);
  names.forEach((name, i) => {
    const t0 = at(name), t1 = at(names[i + 1] || 'end');
    const ts = tasks.filter((t) => t.ts >= t0 && t.ts < t1);
    const cpu = ts.map((t) => (t.tdur ?? t.dur) / 1000);
    const ms = phases[name].map((p) => p.ms);
    const stage = (k) => (phases[name][0][k] === undefined ? '' : ` ${k} ${f(q(phases[name].map((p) => p[k]), 0.5))}/${f(q(phases[name].map((p) => p[k]), 0.9))}`);
    const worst = phases[name].reduce((a, b) => (b.ms > a.ms ? b : a));
    const kept = phases[name].filter((p) => p.kept).length;
    const local = phases[name].filter((p) => p.local).length; // worked out on the page (web/ version with ruleshift.js)
    console.log(`${name}: n ${ms.length}${kept ? ` (${kept} from kept answers)` : ''}${local ? ` (${local} worked out on the page)` : ''}, ms median ${f(q(ms, 0.5))} p90 ${f(q(ms, 0.9))}`
      + (phases[name][0].main_ms !== undefined ? `, drawing median ${f(q(phases[name].map((p) => p.main_ms), 0.5))}` : '')
      + `; main-thread tasks ${ts.length}, > 50 ms wall ${ts.filter((t) => t.dur > 50000).length}, > 16 ms CPU ${cpu.filter((c) => c > 16).length}, `
      + `> 50 ms CPU ${cpu.filter((c) => c > 50).length}, max CPU ${f(Math.max(0, ...cpu))} ms, CPU summed ${cpu.reduce((a, b) => a + b, 0).toFixed(0)} ms`
      + (worst.worker_ms === undefined ? '' : `\n  stages median/p90:${stage('to_worker')}${stage('worker_ms')}${stage('delta_ms')}${stage('from_worker')}${stage('main_ms')}`
        + `; slowest ${f(worst.ms)}: to ${f(worst.to_worker)} worker ${f(worst.worker_ms)} back ${f(worst.from_worker)} draw ${f(worst.main_ms)}`)
      // Each what-if in order (with 10, the p90 is the slowest: which one it is says why).
      + (ms.length > 1 ? `\n  each: ${ms.map((x) => x.toFixed(1)).join(' ')}` : '')
      // Input to the first task after the next frame (the figures painted), where the page records it.
      + (phases[name].every((p) => typeof p.painted_ms === 'number') && ms.length > 1
        ? `\n  painted: median ${f(q(phases[name].map((p) => p.painted_ms), 0.5))} p90 ${f(q(phases[name].map((p) => p.painted_ms), 0.9))}; each ${phases[name].map((p) => p.painted_ms.toFixed(1)).join(' ')}`
          // frame_ms (web/ versions that record it): input to the start of the frame showing it; <= 16.7: the next frame.
          + (typeof phases[name][0].frame_ms === 'number' ? `\n  frame: in the next frame ${phases[name].filter((p) => p.frame_ms <= 1000 / 60).length} of ${ms.length}; each ${phases[name].map((p) => p.frame_ms.toFixed(1)).join(' ')}` : '') : ''));
  });
  console.log(`sign-in to the first card: ${signinFirst === undefined ? 'not recorded (this web/ version)' : f(signinFirst)} ms`);
  console.log(`ML warm-up after sign-in: ${warm === undefined ? 'none (this web/ version)' : JSON.stringify(warm)}`);
  const localStats = await page.evaluate(() => window.fcLocal);
  if (localStats) console.log(`worked out on the page: ${localStats.drawn}, the worker agreed ${localStats.agreed}, differed ${localStats.differed.length}, unverified ${localStats.unverified}`);
} finally {
  await ctx.close();
  proc.kill('SIGTERM');
  fs.rmSync(profile, { recursive: true, force: true });
  fs.rmSync(tmp, { recursive: true, force: true });
}

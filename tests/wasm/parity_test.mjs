// parity_test.mjs: native and WASM give the same rule projection, byte for
// byte, on the demo tenant (seed 42, now = the demo's end of history, 48 h).
//
// Native side, either or both:
//  - tests/golden/demo_rule_48h.json, written by the native fc_parity_dump
//    (tests/wasm/parity_dump.c) and kept current by the native ctest
//    wasm_golden_native;
//  - FC_NATIVE_CLI (a native floatcast binary): `floatcast demo --out DIR
//    --seed 42` must write the WASM demo's CSVs byte for byte, and
//    `floatcast project --data DIR --now TS --horizon 48 --method rule --json`
//    on them must print the WASM projection.
// A newline the native side adds after the JSON is allowed; nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.env.FC_WASM_DIR;
if (!dir) throw new Error('FC_WASM_DIR is not set (ctest sets it to build-wasm/wasm)');
const fc = await (await import(pathToFileURL(path.join(dir, 'floatcast.mjs')).href)).default();

const demo = fc.demo({ seed: 42 });
const wasmJson = fc.projectJSON(demo, { now: demo.now, horizon_hours: 48 });

function assertSameJson(native, what) {
  if (native === wasmJson || native === `${wasmJson}\n`) return;
  const trimmed = native;
  let i = 0;
  while (i < trimmed.length && trimmed[i] === wasmJson[i]) i++;
  assert.fail(`${what} differs from WASM at byte ${i}:\n native: ${trimmed.slice(i - 40, i + 60)}\n`
    + `   wasm: ${wasmJson.slice(i - 40, i + 60)}`);
}

test('the demo projection is a real one', () => {
  const p = JSON.parse(wasmJson);
  assert.equal(p.method, 'rule');
  assert.ok(p.currencies.length >= 3);
  assert.ok(p.currencies.every((c) => c.path.length === 49));
});

test('WASM equals the native golden file', (t) => {
  const golden = path.join(process.env.FC_GOLDEN_DIR || '', 'demo_rule_48h.json');
  if (!process.env.FC_GOLDEN_DIR || !fs.existsSync(golden)) {
    t.skip(`no golden file at ${golden}`);
    return;
  }
  assertSameJson(fs.readFileSync(golden, 'utf8'), golden);
});

function run(cli, args) {
  const r = spawnSync(cli, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `floatcast ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

test('WASM equals the native CLI: demo CSVs and projection', (t) => {
  const cli = process.env.FC_NATIVE_CLI;
  if (!cli || !fs.existsSync(cli)) {
    t.skip('FC_NATIVE_CLI not set (configure with -DFC_NATIVE_CLI=/path/to/build/bin/floatcast)');
    return;
  }
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-parity-'));
  try {
    run(cli, ['demo', '--out', data, '--seed', '42']);
    for (const k of ['accounts', 'transfers', 'streams'])
      assert.ok(fs.readFileSync(path.join(data, `${k}.csv`), 'utf8') === demo[k], `native ${k}.csv equals the WASM demo`);
    assertSameJson(run(cli, ['project', '--data', data, '--now', demo.now, '--horizon', '48',
      '--method', 'rule', '--json']), 'floatcast project');
  } finally {
    fs.rmSync(data, { recursive: true, force: true });
  }
});

// selftest.mjs: the checker must fail on each kind of wrong answer (and
// pass the right one), or its silence over the suites' records would prove
// nothing. Runs against the real gateway/openapi.json.
//
//   node selftest.mjs DOC.json
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Checker, checkAll } from './check.mjs';

const docFile = process.argv[2];
const doc = JSON.parse(fs.readFileSync(docFile, 'utf8'));
const checker = new Checker(doc);
assert.deepEqual(checker.compileAll(), []);

const err = (e) => JSON.stringify({ error: { request_id: 'r1', code: 'unauthorized', message: 'no key', ...e } });
const rec = (o) => ({ method: 'GET', path: '/v1/usage?period=2026-01', status: 401,
  content_type: 'application/json', body: err({}), test: 'selftest', ...o });

// A raw exchange the HTTP layer refused before routing (test_gateway.py's
// record_refused), its request line no request at all.
const http = (status, code, o) => rec({ layer: 'http', method: 'GARBAGE', path: '', status,
  body: err({ code, message: 'request headers too large' }), ...o });

const cases = [
  // [what, record, expected kind (regexp) or null when it must pass]
  ['a documented error', rec({}), null],
  ['a parameterised path', rec({ method: 'DELETE', path: '/v1/webhooks/17' }), null],
  ['a field of another type', rec({ body: err({ code: 5 }) }), /\/error\/code must be string/],
  ['a field the document does not name', rec({ body: err({ hint: 'x' }) }),
    /must NOT have additional properties 'hint'/],
  ['a required field missing', rec({ body: JSON.stringify({ error: { code: 'x', message: 'y' } }) }),
    /must have required property 'request_id'/],
  ['an undocumented status', rec({ status: 418 }), /undocumented status GET \/v1\/usage 418/],
  ['an unknown path answered 404 as the Error object', rec({ path: '/v1/nothing-here', status: 404 }), null],
  ['an unknown path answered otherwise', rec({ path: '/v1/nothing-here' }),
    /undocumented path \/v1\/nothing-here/],
  ['an unknown path answered 404 without the Error object', rec({ path: '/v1/x', status: 404, body: '{}' }),
    /GET \(path not in the document\) 404: \(body\) must have required property 'error'/],
  ['a method the path lacks answered 405', rec({ method: 'PATCH', status: 405 }), null],
  ['a method the path lacks answered otherwise', rec({ method: 'PATCH' }),
    /undocumented method PATCH \/v1\/usage/],
  ['HEAD where GET is documented', rec({ method: 'HEAD', body: '' }), null],
  ['HEAD with a status GET does not have', rec({ method: 'HEAD', status: 409, body: '' }),
    /undocumented status HEAD \/v1\/usage 409/],
  ['an undocumented content type', rec({ content_type: 'text/html' }),
    /undocumented content type GET \/v1\/usage 401 'text\/html'/],
  ['a body that is not JSON', rec({ body: '{"error":' }), /body not JSON/],
  ['a 200 of the wrong shape', rec({ status: 200, path: '/healthz', body: '[]' }), /\(body\) must be object/],
  // The HTTP layer's answers before routing (x-unmatched-responses.request):
  // a raw exchange marked layer "http" is held to them whatever its line.
  ['a malformed request answered 400 bad_request', http(400, 'bad_request'), null],
  ['headers too large answered 431', http(431, 'request_rejected'), null],
  ['a target too long answered 414', http(414, 'request_rejected', { method: 'GET', path: '/' + 'a'.repeat(50) }), null],
  ['a body too large answered 413', http(413, 'request_rejected', { method: 'POST', path: '/healthz' }), null],
  ['a slow request answered 408 timeout', http(408, 'timeout'), null],
  ['a 431 whose code changed', http(431, 'too_large'), /\(HTTP layer\) 431: \/error\/code must be equal to constant/],
  ['a 408 with a field more', rec({ layer: 'http', status: 408, body: err({ code: 'timeout', retry: 1 }) }),
    /\(HTTP layer\) 408: \/error must NOT have additional properties 'retry'/],
  ['a 413 without its request id', rec({ layer: 'http', status: 413,
    body: JSON.stringify({ error: { code: 'request_rejected', message: 'm' } }) }),
    /\(HTTP layer\) 413: \/error must have required property 'request_id'/],
  ['a 400 as plain text', http(400, 'bad_request', { content_type: 'text/plain' }),
    /undocumented content type GARBAGE \(HTTP layer\) 400 'text\/plain'/],
  ['a 505 from the HTTP layer', http(505, 'bad_request'), /undocumented HTTP-layer status/],
  // They apply to every path: an operation that does not list 431 still
  // documents it through them, with their shape.
  ['a 431 on an operation that does not list it', rec({ status: 431, body: err({ code: 'request_rejected' }) }), null],
  ['a handler error passed off as the HTTP layer\'s', rec({ status: 431 }),
    /GET \(HTTP layer\) 431: \/error\/code must be equal to constant/],
  ['a 414 on an unknown path', rec({ path: '/v1/x', status: 414, body: err({ code: 'request_rejected' }) }), null],
];

for (const [what, r, want] of cases) {
  const p = checker.check(r);
  if (want === null) {
    assert.equal(p, null, `${what}: ${JSON.stringify(p)}`);
  } else {
    assert.ok(p, `${what}: passed, must fail`);
    assert.match(p.kind, want, what);
  }
}
assert.equal(checkAll(checker, cases.map((c) => c[1])).size, cases.filter((c) => c[2]).length);

// A misspelt keyword in a schema is refused, not ignored.
const typo = structuredClone(doc);
typo.components.schemas.Error.requred = ['error'];
assert.throws(() => new Checker(typo).compileAll().forEach((m) => { throw new Error(m); }),
  /unknown keyword: "requred"/);

// An answer described only as {"type": "object"} is refused.
const bare = structuredClone(doc);
bare.paths['/v1/usage'].get.responses['200'] = { description: 'x',
  content: { 'application/json': { schema: { type: 'object' } } } };
assert.match(new Checker(bare).compileAll().join('\n'),
  /GET \/v1\/usage 200 application\/json: an object whose fields are not described/);

// The command line: exit 0 on right answers, 1 on one wrong answer among them.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-openapi-'));
const cli = (records) => {
  const f = path.join(dir, 'r.jsonl');
  fs.writeFileSync(f, records.map((r) => JSON.stringify(r) + '\n').join(''));
  return spawnSync(process.execPath, [fileURLToPath(new URL('./check.mjs', import.meta.url)), docFile, f],
    { encoding: 'utf8' });
};
const ok = cli([rec({}), rec({ path: '/v1/usage' })]);
assert.equal(ok.status, 0, ok.stderr);
const bad = cli([rec({}), rec({ body: err({ code: 5 }) })]);
assert.equal(bad.status, 1, bad.stdout);
assert.match(bad.stderr, /MISMATCH x1 GET \/v1\/usage 401: \/error\/code must be string/);
fs.rmSync(dir, { recursive: true });
console.log(`checker self-test: ${cases.length} cases, typo and command line: ok`);

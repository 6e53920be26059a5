// check.mjs: holds the gateway's answers to its OpenAPI document.
//
//   node check.mjs DOC.json RECORDS.jsonl|DIR...
//
// First the document itself is validated against the OpenAPI 3.1 schema
// (@seriousme/openapi-schema-validator) and every schema in it is compiled
// (Ajv, JSON Schema 2020-12, strict: a misspelt keyword or a broken $ref
// fails). Then each recorded exchange (one JSON line per call, written by
// tests/gateway/test_metered.py's call() under FC_API_RECORD) must find its
// path, method, status and content type in the document, and its JSON body
// must validate against that answer's schema. Objects are closed: a schema
// that lists properties and says nothing of others rejects a field it does
// not name, so a field the gateway adds without documenting it fails here,
// as does a field of another type, an undocumented status or path.
// Answers the HTTP layer gives before routing (400 malformed, 408, 413,
// 414, 431, 503) are held to "x-unmatched-responses"."request" wherever
// they come (a record with "layer":"http" to those alone, see preRouting).
// Exits 0 when all hold, 1 with one line per kind of mismatch otherwise.
import fs from 'node:fs';
import path from 'node:path';

// The validators come from npm (package.json, lock): without them the
// check is skipped (77), as the page test is without playwright-core.
let Validator, Ajv2020, addFormats;
try {
  ({ Validator } = await import('@seriousme/openapi-schema-validator'));
  Ajv2020 = (await import('ajv/dist/2020.js')).default;
  addFormats = (await import('ajv-formats')).default;
} catch (e) {
  if (e.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  console.error('skipped: run npm ci in tests/gateway/openapi (' + e.message + ')');
  process.exit(77);
}

const SCHEMAS_ID = 'urn:floatcast:openapi';

// OpenAPI's own keywords inside a Schema Object: known to Ajv so that strict
// mode still refuses anything else.
const OPENAPI_KEYWORDS = ['example', 'discriminator', 'xml', 'externalDocs'];

// "#/components/schemas/X" -> the same schema inside our one Ajv schema;
// and every object that names its properties gets closed (see above).
function prepare(node) {
  if (Array.isArray(node)) return node.map(prepare);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
      out[k] = SCHEMAS_ID + '#/$defs/' + v.slice('#/components/schemas/'.length);
    } else if (k === 'properties' || k === '$defs' || k === 'patternProperties') {
      // a map of names to schemas, not a schema: keep its keys as they are
      out[k] = Object.fromEntries(Object.entries(v).map(([n, s]) => [n, prepare(s)]));
    } else {
      out[k] = prepare(v);
    }
  }
  const open = 'additionalProperties' in out || 'unevaluatedProperties' in out ||
    'patternProperties' in out;
  if (out.properties && !open) out.additionalProperties = false;
  return out;
}

// A local reference to another part of the document (responses, headers).
function deref(doc, node) {
  let seen = 0;
  while (node && typeof node.$ref === 'string' && node.$ref.startsWith('#/')) {
    if (++seen > 16) throw new Error('reference loop at ' + node.$ref);
    node = node.$ref.slice(2).split('/')
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((o, p) => (o === undefined ? undefined : o[p]), doc);
    if (node === undefined) throw new Error('unresolved reference');
  }
  return node;
}

// Path templates as regular expressions; a template with fewer parameters
// wins ("/v1/admin/keys/{id}/rotate" over "/v1/admin/{a}/{b}/{c}").
function templates(doc) {
  return Object.keys(doc.paths).map((t) => {
    const parts = t.split(/(\{[^}]+\})/);
    const re = parts.map((p) => (p.startsWith('{') ? '([^/]+)'
      : p.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('');
    return { template: t, re: new RegExp('^' + re + '$'), params: (t.match(/\{/g) || []).length };
  }).sort((a, b) => a.params - b.params);
}

// A bare {"type":"object"}: any answer matches it, and a client generated
// from it learns nothing, so every answer must say what its fields are.
function undescribed(schema) {
  const t = schema.type;
  const object = t === 'object' || (Array.isArray(t) && t.includes('object'));
  return object && !schema.properties && !('additionalProperties' in schema) &&
    !schema.patternProperties && !schema.oneOf && !schema.anyOf && !schema.allOf && !schema.$ref;
}

function mediaType(contentType) {
  return (contentType || '').split(';')[0].trim().toLowerCase();
}

function isJson(media) {
  return media === 'application/json' || media.endsWith('+json');
}

export class Checker {
  constructor(doc) {
    this.doc = doc;
    this.paths = templates(doc);
    this.ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
    addFormats(this.ajv);
    for (const k of OPENAPI_KEYWORDS) this.ajv.addKeyword(k);
    const defs = prepare({ $defs: (doc.components && doc.components.schemas) || {} });
    this.ajv.addSchema({ $id: SCHEMAS_ID, ...defs });
    this.compiled = new Map();
  }

  // Compiles every answer's schema once, so a broken one fails even if no
  // test reached it. Returns the problems found.
  compileAll() {
    const problems = [];
    for (const name of Object.keys((this.doc.components || {}).schemas || {})) {
      try {
        this.ajv.getSchema(SCHEMAS_ID + '#/$defs/' + name);
      } catch (e) {
        problems.push(`components.schemas.${name}: ${e.message}`);
      }
    }
    for (const [what, byStatus] of Object.entries(this.doc['x-unmatched-responses'] || {})) {
      for (const [status, resp] of Object.entries(byStatus)) {
        for (const [media, content] of Object.entries(deref(this.doc, resp).content || {})) {
          try {
            if (content.schema) this.validator(`x-unmatched ${what} ${status} ${media}`, content.schema);
          } catch (e) {
            problems.push(`x-unmatched-responses.${what}.${status} ${media}: ${e.message}`);
          }
        }
      }
    }
    for (const [template, item] of Object.entries(this.doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (!op || !op.responses) continue;
        for (const [status, resp] of Object.entries(op.responses)) {
          for (const [media, content] of Object.entries(deref(this.doc, resp).content || {})) {
            if (!content.schema) continue;
            if (isJson(media) && undescribed(deref(this.doc, content.schema))) {
              problems.push(`${method.toUpperCase()} ${template} ${status} ${media}: an object whose fields ` +
                'are not described (list its properties, or say additionalProperties)');
            }
            try {
              this.validator(`${method} ${template} ${status} ${media}`, content.schema);
            } catch (e) {
              problems.push(`${method.toUpperCase()} ${template} ${status} ${media}: ${e.message}`);
            }
          }
        }
      }
    }
    return problems;
  }

  validator(key, schema) {
    if (!this.compiled.has(key)) this.compiled.set(key, this.ajv.compile(prepare(schema)));
    return this.compiled.get(key);
  }

  // One recorded exchange -> null when it matches the document, or
  // { kind, detail } saying what does not.
  check(rec) {
    if (typeof rec.method !== 'string' || typeof rec.path !== 'string' ||
        !Number.isInteger(rec.status)) {
      return { kind: 'not a recorded exchange', detail: JSON.stringify(rec).slice(0, 200) };
    }
    if (rec.layer === 'http') return this.preRouting(rec, 'undocumented HTTP-layer status');
    const urlPath = rec.path.split('?')[0];
    const hit = this.paths.find((p) => p.re.test(urlPath));
    const s = String(rec.status);
    if (!hit) return this.unmatched(rec, 'path', `undocumented path ${urlPath}`);
    const where = `${rec.method} ${hit.template}`;
    const item = this.doc.paths[hit.template];
    // HEAD is GET without the body (router.c), on every GET path
    const op = item[rec.method.toLowerCase()] || (rec.method === 'HEAD' && item.get);
    if (!op) return this.unmatched(rec, 'method', `undocumented method ${where}`);
    const declared = op.responses[s] || op.responses[s[0] + 'XX'] || op.responses.default;
    if (!declared) return this.preRouting(rec, `undocumented status ${where} ${s}`);
    return this.answer(rec, where, deref(this.doc, declared));
  }

  // The HTTP layer's answers before any route is matched (malformed, too
  // slow, over a limit: "x-unmatched-responses"."request") apply to every
  // path and method. A record marked layer "http" (a raw exchange the test
  // knows was refused by the reader, whose request line may be no request
  // at all) is held to them alone; any other answer falls back to them
  // only for a status its operation does not list, and must then have
  // their shape (their code is pinned, so a handler's own error does not
  // pass as one). kind: what to say when the status is not there either.
  preRouting(rec, kind) {
    const declared = ((this.doc['x-unmatched-responses'] || {}).request || {})[String(rec.status)];
    if (!declared) return { kind, detail: rec.layer === 'http' ? `status ${rec.status}` : rec.body };
    return this.answer(rec, `${rec.method} (HTTP layer)`, deref(this.doc, declared));
  }

  // An unknown path or a method a path does not have: the document's
  // "x-unmatched-responses" says what the gateway answers then (404, 405,
  // as the Error object); any other status is undocumented.
  unmatched(rec, what, kind) {
    const declared = ((this.doc['x-unmatched-responses'] || {})[what] || {})[String(rec.status)];
    if (!declared) return this.preRouting(rec, kind);
    return this.answer(rec, `${rec.method} (${what} not in the document)`, deref(this.doc, declared));
  }

  // The answer rec against the response object resp.
  answer(rec, where, resp) {
    const s = String(rec.status);
    const content = resp.content || {};
    const media = mediaType(rec.content_type);
    if (rec.method === 'HEAD' || (rec.body === '' && Object.keys(content).length === 0)) return null;
    const entry = content[media];
    if (!entry) {
      return { kind: `undocumented content type ${where} ${s} '${media}'`,
        detail: `documented: ${Object.keys(content).join(', ') || 'no body'}` };
    }
    if (!entry.schema) return null;
    let body = rec.body;
    if (isJson(media)) {
      if (typeof body !== 'string') return { kind: `${where} ${s}: body not UTF-8`, detail: '' };
      try {
        body = JSON.parse(body);
      } catch (e) {
        return { kind: `${where} ${s}: body not JSON`, detail: rec.body.slice(0, 200) };
      }
    }
    const validate = this.validator(`${where} ${s} ${media}`, entry.schema);
    if (validate(body)) return null;
    const first = validate.errors[0];
    return {
      kind: `${where} ${s}: ${first.instancePath || '(body)'} ${first.message}` +
        (first.params && first.params.additionalProperty
          ? ` '${first.params.additionalProperty}'` : ''),
      detail: (typeof rec.body === 'string' ? rec.body : '').slice(0, 300),
    };
  }
}

export async function validateDocument(file) {
  const v = new Validator();
  const res = await v.validate(file);
  if (!res.valid) return { valid: false, errors: res.errors };
  if (!v.version.startsWith('3.1')) return { valid: false, errors: [`OpenAPI ${v.version}, not 3.1`] };
  return { valid: true };
}

// Record files, or directories of them (*.jsonl).
export function recordFiles(args) {
  return args.flatMap((a) => (!fs.existsSync(a) ? [] : fs.statSync(a).isDirectory()
    ? fs.readdirSync(a).filter((f) => f.endsWith('.jsonl')).sort().map((f) => path.join(a, f))
    : [a]));
}

export function readRecords(files) {
  const out = [];
  for (const f of files) {
    const lines = fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.length);
    for (const l of lines) out.push(JSON.parse(l));
  }
  return out;
}

// Problems grouped by kind: one line each, with a count and one example.
export function checkAll(checker, records) {
  const kinds = new Map();
  for (const rec of records) {
    const p = checker.check(rec);
    if (!p) continue;
    const k = kinds.get(p.kind) || { n: 0, example: rec, detail: p.detail };
    k.n++;
    kinds.set(p.kind, k);
  }
  return kinds;
}

async function main(argv) {
  const [docFile, ...recordArgs] = argv;
  if (!docFile) {
    console.error('usage: node check.mjs DOC.json RECORDS.jsonl|DIR...');
    return 2;
  }
  const v = await validateDocument(docFile);
  if (!v.valid) {
    console.error(`${docFile} is not a valid OpenAPI 3.1 document:`);
    console.error(JSON.stringify(v.errors, null, 1).slice(0, 4000));
    return 1;
  }
  const checker = new Checker(JSON.parse(fs.readFileSync(docFile, 'utf8')));
  const broken = checker.compileAll();
  if (broken.length) {
    console.error(`${docFile}: schemas that do not compile:\n  ` + broken.join('\n  '));
    return 1;
  }
  console.log(`${docFile}: valid OpenAPI 3.1, every schema compiles`);
  const files = recordFiles(recordArgs);
  if (recordArgs.length && files.length === 0) {
    // ctest ran this check without any recording suite (ctest -R openapi)
    console.error('skipped: no suite recorded answers in ' + recordArgs.join(' '));
    return 77;
  }
  const records = readRecords(files);
  const kinds = checkAll(checker, records);
  const ops = new Set(records.map((r) => r.method + ' ' + String(r.path).split('?')[0]));
  console.log(`${records.length} recorded answers (${ops.size} distinct method+path) ` +
    `from ${files.length} record files`);
  if (kinds.size === 0) return 0;
  for (const [kind, k] of kinds) {
    console.error(`MISMATCH x${k.n} ${kind}\n    e.g. ${k.example.test || ''}: ` +
      `${k.example.method} ${k.example.path} -> ${k.example.status} ${k.detail || ''}`);
  }
  console.error(`${kinds.size} kinds of mismatch`);
  return 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}

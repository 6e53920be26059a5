// session.js: the page's conversation with the gateway, for a signed-in
// tenant. Sign-in trades the partner key for a session cookie (POST
// /v1/sessions): the key is sent once, in a header, and kept nowhere (not in
// localStorage, not in a variable after the call); the cookie is HttpOnly,
// so no script here can read it, and the browser sends it back on the
// same-origin calls below. The snapshot (GET /v1/treasury/snapshot) carries
// the tenant's records, which the page turns into the CSV texts the WASM
// module reads, so every projection and what-if then runs in the browser.
// Errors come back as sentences a treasurer can act on.

// A failed call: `status` (0 when the gateway could not be reached), the
// gateway's error code as `apiCode` ('' when none; not `code`, which names
// the core's errors on the page) and a plain sentence.
export class GatewayError extends Error {
  constructor(status, message, apiCode = '') {
    super(message);
    this.status = status;
    this.apiCode = apiCode;
  }
}

// payload (an object) goes as JSON, which is also what the gateway's CSRF
// check asks of a state-changing cookie call.
async function call(method, path, headers = {}, payload = undefined) {
  let res;
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (payload !== undefined) {
    init.headers = { ...headers, 'Content-Type': 'application/json' };
    init.body = JSON.stringify(payload);
  }
  try {
    res = await fetch(path, init);
  } catch {
    throw new GatewayError(0, 'The gateway cannot be reached. Loading files and the demo still work offline.');
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (res.ok) return body;
  const code = body && body.error ? body.error.code : '';
  const retry = res.headers.get('Retry-After');
  let msg;
  if (res.status === 401 && code === 'session_expired') msg = 'Your session has expired. Sign in again with your key.';
  else if (res.status === 401 && code === 'session_revoked') msg = 'The key this session was opened with has been revoked. Sign in with a current key.';
  else if (res.status === 401 && path === '/v1/sessions' && method === 'POST') msg = 'That key was not accepted: check it was copied whole, and that it has not been revoked.';
  else if (res.status === 401) msg = 'You are not signed in. Sign in with your key.';
  else if (res.status === 429) msg = `Too many requests for this account just now; try again in ${retry || 'a few'} seconds.`;
  else if (res.status === 404 && !code) msg = 'This page is not served by a floatcast gateway; load files or the demo instead.';
  else if (res.status >= 500) msg = 'The gateway could not answer just now; try again shortly.';
  else msg = body && body.error ? body.error.message : `The gateway answered ${res.status}.`;
  throw new GatewayError(res.status, msg, code);
}

// Opens a session with `key`; resolves {tenant_id, expires_at, ...}.
export function signIn(key) {
  const k = String(key || '').trim();
  if (!/^fc_[0-9a-f]{12}_[0-9a-f]{48}$/.test(k)) {
    return Promise.reject(new GatewayError(400, 'A key reads fc_ followed by 12 and 48 hexadecimal characters; check it was copied whole.'));
  }
  return call('POST', '/v1/sessions', { Authorization: `Bearer ${k}` });
}

// Ends the session (X-Requested-With: the gateway's CSRF check for cookie calls).
export function signOut() {
  return call('DELETE', '/v1/sessions', { 'X-Requested-With': 'floatcast' });
}

// The tenant's saved scenarios (gateway/scenarios.h): path '' or '/{id}'.
// X-Requested-With: the CSRF check for a DELETE, which has no body.
export function scenarioCall(method, path, body) {
  return call(method, `/v1/treasury/scenarios${path}`, { 'X-Requested-With': 'floatcast' }, body);
}

// The tenant's recorded projections of a currency against what arrived
// (gateway/track.h), newest first.
export function loadTrack(currency, method, limit) {
  const q = new URLSearchParams({ currency, method, limit: String(limit) });
  return call('GET', `/v1/treasury/track?${q}`);
}

export function loadSnapshot() {
  return call('GET', '/v1/treasury/snapshot');
}

const csvField = (v) => (/[",\r\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

// Rows of objects -> CSV text with a header (the union of their fields);
// absent fields stay empty, which the canonical format reads as absent.
export function toCsv(rows) {
  const cols = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const lines = [cols.join(',')];
  for (const r of rows) lines.push(cols.map((c) => (r[c] === undefined || r[c] === null ? '' : csvField(r[c]))).join(','));
  return `${lines.join('\n')}\n`;
}

// The snapshot as the page's data: the three CSV texts.
export function snapshotData(snap) {
  return { accounts: toCsv(snap.accounts), transfers: toCsv(snap.transfers), streams: toCsv(snap.streams) };
}

// Fetches the snapshot and turns it into the page's data (the compute worker
// calls this, so the 0.7 MB parse and the CSV writing stay off the main
// thread): {summary: tenant, times, currencies, counts; data: CSV texts}.
export async function loadSnapshotData() {
  const snap = await loadSnapshot();
  return {
    summary: { tenant_id: snap.tenant_id, as_of: snap.as_of, generated_at: snap.generated_at, currencies: snap.currencies,
      accounts: snap.accounts.length, transfers: snap.transfers.length, streams: snap.streams.length,
      pending: snap.transfers.filter((t) => t.status === 'pending').length },
    data: snapshotData(snap),
  };
}

// scenarios.js: named what-if scenarios, one list per tenant. Signed in, they
// are kept by the gateway (/v1/treasury/scenarios), so the tenant finds them
// in any browser and they are checked against its data when saved; offline
// (files, the demo) they stay in this browser's localStorage; what a browser
// kept for a tenant before moves to the gateway at the next sign-in. Both stores
// answer the same calls, so the page does not care which it has:
//   list() -> [{name, scenario}] by name; save(name, scenario) (replaces one
//   of that name); rename(from, to); remove(name).
// `scenario` is the page's what-if ({transfers, cancel, pause: Set, extra});
// `extra` keeps what the page has no control for (streams, accounts, resumed
// streams, new rates: a scenario saved through the API) so it is applied and
// saved back unchanged. Failures throw errors with a sentence a treasurer
// can act on.
import { scenarioCall } from './session.js';

export const NAME_MAX = 60; // as the gateway (gateway/scenarios.h)
const PAGE_MEMBERS = ['transfers', 'cancel_transfers', 'pause_streams'];

// The page's scenario as the canonical what-if object (core/include/fc/whatif.h).
export function toCanonical(sc) {
  const o = { ...(sc.extra || {}) };
  if (sc.transfers.length) o.transfers = sc.transfers;
  if (sc.cancel.length) o.cancel_transfers = sc.cancel;
  if (sc.pause.size) o.pause_streams = [...sc.pause];
  return o;
}

// A canonical what-if object as the page's scenario.
export function fromCanonical(o) {
  const extra = {};
  for (const [k, v] of Object.entries(o || {})) if (!PAGE_MEMBERS.includes(k)) extra[k] = v;
  return { transfers: [...(o?.transfers || [])], cancel: [...(o?.cancel_transfers || [])],
    pause: new Set(o?.pause_streams || []), extra };
}

export const isEmpty = (sc) => Object.keys(toCanonical(sc)).length === 0;

// The name as it will be kept; throws the sentence when it cannot be.
function checkName(name) {
  const n = String(name || '').trim();
  if (!n) throw new Error('Give the scenario a name to save it under.');
  if ([...n].length > NAME_MAX) throw new Error(`A scenario name can be at most ${NAME_MAX} characters.`);
  if (/[\u0000-\u001f\u007f]/.test(n)) throw new Error('A scenario name cannot hold line breaks or tabs.');
  return n;
}

function checkScenario(sc) {
  if (isEmpty(sc)) throw new Error('The scenario is empty: add a payment, cancel a transfer or pause a stream first.');
}

const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

// ---- in this browser ---------------------------------------------------------

class BrowserStore {
  constructor(tenant) {
    this.key = `fc-scenarios:${tenant || 'offline'}`;
    this.where = 'browser';
  }

  read() {
    try {
      const v = JSON.parse(localStorage.getItem(this.key) || '{}');
      return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
    } catch {
      return {};
    }
  }

  write(all) {
    try {
      if (Object.keys(all).length) localStorage.setItem(this.key, JSON.stringify(all));
      else localStorage.removeItem(this.key);
    } catch {
      throw new Error('This browser would not save the scenario (storage is full or disabled).');
    }
  }

  async list() {
    // Entries saved before scenarios were canonical read {transfers, cancel, pause}.
    const old = (s) => ({ transfers: s.transfers, cancel_transfers: s.cancel, pause_streams: s.pause });
    return Object.entries(this.read()).map(([name, s]) => ({ name, scenario: fromCanonical(s.scenario || old(s)) }))
      .sort(byName);
  }

  async save(name, sc) {
    const n = checkName(name);
    checkScenario(sc);
    const all = this.read();
    all[n] = { scenario: toCanonical(sc), saved_at: new Date().toISOString() };
    this.write(all);
    return n;
  }

  async rename(from, to) {
    const n = checkName(to);
    const all = this.read();
    if (n !== from && all[n]) throw new Error(`A saved scenario is already called "${n}"; choose another name.`);
    all[n] = all[from];
    if (n !== from) delete all[from];
    this.write(all);
    return n;
  }

  async remove(name) {
    const all = this.read();
    delete all[name];
    this.write(all);
  }
}

// ---- at the gateway ----------------------------------------------------------

// The gateway's refusals in the page's words (its own message where it names the cause).
function plain(e, name) {
  const code = e.apiCode || '';
  if (code === 'name_taken') return new Error(`A saved scenario is already called "${name}"; choose another name.`);
  if (code === 'too_many_scenarios') return new Error(`${e.message.charAt(0).toUpperCase()}${e.message.slice(1)}.`);
  if (code === 'scenario_too_large') return new Error('This scenario is too large to keep; save it in parts.');
  if (code === 'invalid_scenario') {
    return new Error('The gateway did not keep this scenario: one of its changes does not fit the current data '
      + '(a transfer or stream that no longer exists, or an amount the currency cannot hold).');
  }
  if (code === 'not_found') return new Error('That scenario was deleted meanwhile (in another window?); the list is refreshed.');
  return e;
}

class GatewayStore {
  constructor(tenant) {
    this.rows = new Map(); // name -> the gateway's row (for its id)
    this.where = 'gateway';
    this.tenant = tenant;
    this.adopted = false;
  }

  async fetchRows() {
    const doc = await scenarioCall('GET', '');
    this.rows = new Map(doc.scenarios.map((r) => [r.name, r]));
    return doc.scenarios;
  }

  // Scenarios this browser kept for the tenant before the gateway kept them
  // move to the gateway once, so none is lost: one whose name is taken by a
  // different scenario moves as "<name> (this browser)"; one the gateway
  // refuses (its transfer or stream no longer exists) stays in the browser.
  async adopt() {
    const local = new BrowserStore(this.tenant);
    for (const { name, scenario } of await local.list()) {
      const have = this.rows.get(name);
      const same = have && JSON.stringify(have.scenario) === JSON.stringify(toCanonical(scenario));
      try {
        if (!same) await this.save(have ? `${name.slice(0, NAME_MAX - 15)} (this browser)` : name, scenario);
        await local.remove(name);
      } catch {
        // kept in the browser
      }
    }
  }

  async list() {
    let rows = await this.fetchRows();
    if (!this.adopted) {
      this.adopted = true;
      await this.adopt();
      rows = await this.fetchRows();
    }
    return rows.map((r) => ({ name: r.name, scenario: fromCanonical(r.scenario) })).sort(byName);
  }

  async save(name, sc) {
    const n = checkName(name);
    checkScenario(sc);
    const have = this.rows.get(n);
    try {
      const row = have ? await scenarioCall('PUT', `/${encodeURIComponent(have.id)}`, { scenario: toCanonical(sc) })
        : await scenarioCall('POST', '', { name: n, scenario: toCanonical(sc) });
      this.rows.set(row.name, row);
      return row.name;
    } catch (e) {
      throw plain(e, n);
    }
  }

  async rename(from, to) {
    const n = checkName(to);
    const have = this.rows.get(from);
    if (!have) throw plain({ apiCode: 'not_found' }, from);
    try {
      const row = await scenarioCall('PUT', `/${encodeURIComponent(have.id)}`, { name: n });
      this.rows.delete(from);
      this.rows.set(row.name, row);
      return row.name;
    } catch (e) {
      throw plain(e, n);
    }
  }

  async remove(name) {
    const have = this.rows.get(name);
    if (!have) return;
    try {
      await scenarioCall('DELETE', `/${encodeURIComponent(have.id)}`);
    } catch (e) {
      if (e.apiCode !== 'not_found') throw plain(e, name);
    }
    this.rows.delete(name);
  }
}

// The store for a signed-in tenant (the gateway) or for offline use (this browser).
export function scenarioStore(tenant) {
  return tenant ? new GatewayStore(tenant) : new BrowserStore(null);
}

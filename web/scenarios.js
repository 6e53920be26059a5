// scenarios.js: named what-if scenarios kept in this browser (localStorage),
// one list per tenant (signed in: the tenant's id; offline: "offline"), so a
// treasurer's scenarios of one tenant never show on another's data. A
// scenario is the page's what-if: transfers added, transfers cancelled,
// streams paused. Nothing here leaves the browser.

const storeKey = (tenant) => `fc-scenarios:${tenant || 'offline'}`;

function readAll(tenant) {
  try {
    const v = JSON.parse(localStorage.getItem(storeKey(tenant)) || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

function writeAll(tenant, all) {
  try {
    localStorage.setItem(storeKey(tenant), JSON.stringify(all));
  } catch {
    throw new Error('This browser would not save the scenario (storage is full or disabled).');
  }
}

// Names of the saved scenarios, sorted.
export function listScenarios(tenant) {
  return Object.keys(readAll(tenant)).sort((a, b) => a.localeCompare(b));
}

// Saves sc ({transfers, cancel, pause: Set}) under name, replacing one of that name.
export function saveScenario(tenant, name, sc) {
  const n = String(name || '').trim();
  if (!n) throw new Error('Give the scenario a name to save it under.');
  if (n.length > 60) throw new Error('A scenario name can be at most 60 characters.');
  if (!sc.transfers.length && !sc.cancel.length && !sc.pause.size) {
    throw new Error('The scenario is empty: add a payment, cancel a transfer or pause a stream first.');
  }
  const all = readAll(tenant);
  all[n] = { transfers: sc.transfers, cancel: sc.cancel, pause: [...sc.pause], saved_at: new Date().toISOString() };
  writeAll(tenant, all);
  return n;
}

// The scenario saved under name ({transfers, cancel, pause: Set}), or null.
export function getScenario(tenant, name) {
  const s = readAll(tenant)[name];
  if (!s) return null;
  return { transfers: [...(s.transfers || [])], cancel: [...(s.cancel || [])], pause: new Set(s.pause || []) };
}

export function deleteScenario(tenant, name) {
  const all = readAll(tenant);
  delete all[name];
  writeAll(tenant, all);
}

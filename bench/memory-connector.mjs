// An in-process connector for benchmarks: each app's assignments live in a
// Map, read in pages of 1,000 as an API would serve them; every call counts.
export function memoryConnector({ pageSize = 1000 } = {}) {
  const stores = new Map();
  const counts = { observePages: 0, mutations: 0, minimumPages: 0 };
  const key = (h) => `${h.account}\u0000${h.entitlement ?? ''}\u0000${h.license ?? ''}`;
  const connector = benchConnector({
    async open(app) {
      if (!stores.has(app.id)) stores.set(app.id, new Map());
      const store = stores.get(app.id);
      return {
        concurrency: 8,
        async observe() {
          const all = [...store.values()];
          const pages = Math.max(1, Math.ceil(all.length / pageSize));
          counts.minimumPages += pages;
          const held = [];
          for (let page = 0; page < pages; page++) {
            counts.observePages++;
            held.push(...all.slice(page * pageSize, (page + 1) * pageSize));
          }
          return held;
        },
        steps(changes) {
          const batches = new Map();
          for (const c of changes) {
            const k = `${c.action}\u0000${c.account}`;
            if (!batches.has(k)) batches.set(k, []);
            batches.get(k).push(c);
          }
          return [...batches.values()].map((batch) => ({
            changes: batch,
            async run() {
              counts.mutations++;
              return batch.map((change) => ({ change, outcome: outcome(change) }));
              function outcome(c) {
                const h = {
                  account: c.account,
                  ...(c.entitlement ? { entitlement: c.entitlement } : { license: c.license }),
                };
                if (c.action === 'grant') {
                  if (store.has(key(h))) return 'unchanged';
                  store.set(key(h), h);
                  return 'granted';
                }
                return store.delete(key(h)) ? 'revoked' : 'unchanged';
              }
            },
          }));
        },
        async close() {},
      };
    },
  });
  return { connector, stores, counts };
}

/** A connector of the benchmarks' apps (typed as PostgreSQL's, accounts by id) opening sessions with `open`. */
export function benchConnector({ open }) {
  return {
    type: 'postgres',
    accountDefault: 'id',
    caseInsensitiveAccounts: false,
    missingCredentials: () => undefined,
    open,
  };
}

/**
 * What a benchmark plans with: the instant every benchmark plans at, and apply-time
 * verification off. The generated repository is committed by the bench, not merged through
 * reviewed pull requests: verification would hold every grant (and plan nothing), so it is
 * off, as `policy: { verifyMerges: false }` in the settings turns it off.
 */
export function planOptions(repo, connector) {
  const settings = repo.settings?.value;
  if (settings) settings.policy = { ...settings.policy, verifyMerges: false };
  return {
    repo,
    at: Date.parse('2026-11-27T12:00:00Z'),
    strict: true,
    allowMassRemoval: true,
    env: {},
    registry: { postgres: connector },
    lockTimeoutMs: 0,
  };
}

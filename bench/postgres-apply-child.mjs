// One measured apply through the postgres connector, in its own process:
// `server <url> <prefix> <people> <roles>` or `embedded <dir> <prefix> <people> <roles>`.
// A warm-up change opens the connections (and makes and opens the embedded
// database); then every person's roles are applied at once, through apply
// (which lets the embedded database go at the end: that close is counted). Prints JSON {ms, changes,
// failed, roundTrips, statements}.
import pg from 'pg';
import { connectors } from '../dist/src/connectors/catalog.js';
import { applyChanges } from '../dist/src/reconcile/apply.js';

const [kind, where, prefix, people, roles] = process.argv.slice(2);
const counts = { roundTrips: 0, statements: 0 };
// Counts what is sent to a server: each query call a round trip, each statement of a string one statement.
const original = pg.Client.prototype.query;
pg.Client.prototype.query = function (sql, ...rest) {
  if (typeof sql === 'string') {
    counts.roundTrips++;
    counts.statements += sql.split(';\n').length;
  }
  return original.call(this, sql, ...rest);
};
const entitlements = Array.from({ length: Number(roles) }, (_, r) => ({
  id: `e${r}`,
  kind: 'role',
  role: `bench_e${r}`,
}));
const app = {
  id: 'db',
  file: {
    name: 'Bench',
    connector: kind === 'server' ? { type: 'postgres', url: where } : { type: 'postgres' },
    entitlements,
  },
};
const context = { repoRoot: kind === 'server' ? '/nowhere' : where, env: {}, lockTimeoutMs: 10_000 };
const session = await connectors.postgres.open(app, context);
const change = (account, entitlement) => ({
  action: 'grant',
  app: 'db',
  user: account,
  account,
  entitlement,
  reason: 'new-grant',
});
await session.observe();
// Straight through the step, so the embedded database stays open (apply lets it go after each app).
for (const step of session.steps([change(`${prefix}warm`, 'e0')])) await step.run();
const changes = [];
for (let p = 0; p < Number(people); p++)
  for (const e of entitlements) changes.push(change(`${prefix}person-${String(p).padStart(5, '0')}`, e.id));
const before = { ...counts };
const started = performance.now();
const results = await applyChanges(changes, new Map([['db', session]]));
const ms = performance.now() - started;
await session.close();
console.log(
  JSON.stringify({
    ms,
    changes: changes.length,
    failed: results.filter((r) => r.outcome !== 'granted').length,
    roundTrips: counts.roundTrips - before.roundTrips,
    statements: counts.statements - before.statements,
  }),
);

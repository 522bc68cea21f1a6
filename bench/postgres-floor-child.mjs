// The floor for the postgres apply rows: the statements iden sends for a first
// grant (CREATE ROLE … LOGIN, COMMENT ON ROLE, one GRANT per membership) sent
// by the driver as one string in one transaction, on the same server
// (`server <url>`) or in PGlite in this thread (`embedded <dir>`).
// Prints JSON {ms, changes, statements}.
import pg from 'pg';

const [kind, where, prefix, people, roles] = process.argv.slice(2);
const q = (name) => pg.escapeIdentifier(name);
const statements = [];
const groups = Array.from({ length: Number(roles) }, (_, r) => `bench_e${r}`);
for (let p = 0; p < Number(people); p++) {
  const account = q(`${prefix}person-${String(p).padStart(5, '0')}`);
  statements.push(`CREATE ROLE ${account} LOGIN`, `COMMENT ON ROLE ${account} IS 'managed by iden'`);
  for (const g of groups) statements.push(`GRANT ${q(g)} TO ${account}`);
}
const script = `BEGIN;\n${statements.join(';\n')};\nCOMMIT`;
let ms;
if (kind === 'server') {
  const client = new pg.Client({ connectionString: where });
  await client.connect();
  const started = performance.now();
  await client.query(script);
  ms = performance.now() - started;
  await client.end();
} else {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(where);
  await db.exec(groups.map((g) => `CREATE ROLE ${q(g)} NOLOGIN`).join(';'));
  const started = performance.now();
  await db.exec(script);
  ms = performance.now() - started;
  await db.close();
}
console.log(JSON.stringify({ ms, changes: Number(people) * groups.length, statements: statements.length }));

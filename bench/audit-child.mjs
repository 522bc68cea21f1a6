// Times iden audit on a generated history: one person's timeline, the whole
// repository as of an instant, and the floor (one `git log --raw` of grants/).
import { execFileSync } from 'node:child_process';
import { auditAsOf, auditEvents, readAudit } from '../dist/src/audit/audit.js';

const root = process.argv[2];
const now = Date.parse('2026-11-27T12:00:00Z');
const time = async (f) => {
  const started = performance.now();
  const value = await f();
  return { ms: performance.now() - started, value };
};
const floor = await time(() =>
  execFileSync(
    'git',
    [
      'log',
      '--first-parent',
      '--raw',
      '-z',
      '--no-abbrev',
      '--no-renames',
      '--format=%H',
      'HEAD',
      '--',
      'grants/',
    ],
    {
      cwd: root,
      maxBuffer: 1 << 30,
    },
  ),
);
// Each question as the CLI answers it: the history and the records read, then the query.
const review = { source: undefined, env: {} };
const person = await time(async () =>
  auditEvents(root, await readAudit(root, {}, now), { user: 'person-00007', now }, review),
);
const all = await time(async () => auditEvents(root, await readAudit(root, {}, now), { now }, review));
const asOf = await time(async () =>
  auditAsOf(root, await readAudit(root, {}, now), Date.parse('2025-06-01T00:00:00Z'), undefined),
);
console.log(
  JSON.stringify({
    floorMs: floor.ms,
    personMs: person.ms,
    personEvents: person.value.length,
    allMs: all.ms,
    allEvents: all.value.length,
    asOfMs: asOf.ms,
    asOfAccess: asOf.value.access.length,
    commits: Number(execFileSync('git', ['rev-list', '--count', 'HEAD'], { cwd: root, encoding: 'utf8' })),
  }),
);

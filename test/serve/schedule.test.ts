import { describe, expect, it } from 'vitest';
import { loadRepo } from '../../src/load/repo.js';
import type { AccessRepo } from '../../src/model/repo.js';
import { type Instant, zoneOf } from '../../src/model/time.js';
import { grantWindow } from '../../src/model/window.js';
import { appsDue, dueNotices, nextChange } from '../../src/serve/schedule.js';
import { writeTree } from '../helpers/repo.js';

/**
 * The daemon's schedule reads starts and ends sorted once per loaded
 * repository: it must answer as going over every grant does, ties, instants
 * exactly on a boundary and grants without dates included.
 */

const DAY = 86_400_000;
const T0 = Date.parse('2026-12-01T00:00:00Z');
const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');

function everyWindow(repo: AccessRepo) {
  const zone = zoneOf(repo);
  return repo.grants.flatMap((grant) => {
    const window = grant.value && grantWindow(grant.value, zone);
    return grant.value && window ? [{ grant, app: grant.value.app, window }] : [];
  });
}

function nextBrute(repo: AccessRepo, now: Instant) {
  let at: Instant | undefined;
  let apps = new Set<string>();
  for (const { app, window } of everyWindow(repo))
    for (const t of [window.start, window.end]) {
      if (t === undefined || t <= now) continue;
      if (at === undefined || t < at) {
        at = t;
        apps = new Set([app]);
      } else if (t === at) apps.add(app);
    }
  return at === undefined ? undefined : { at, apps: [...apps].sort() };
}

function dueBrute(repo: AccessRepo, from: Instant, to: Instant) {
  const apps = new Set<string>();
  for (const { app, window } of everyWindow(repo))
    for (const t of [window.start, window.end]) if (t !== undefined && t > from && t <= to) apps.add(app);
  return [...apps].sort();
}

function noticesBrute(repo: AccessRepo, now: Instant, leads: { text: string; ms: number }[]) {
  return everyWindow(repo).flatMap(({ grant, window }) =>
    window.end === undefined || window.end <= now
      ? []
      : leads
          .filter((lead) => window.end! - lead.ms <= now)
          .map((lead) => ({
            key: `${grant.file}\u0000${window.end}\u0000${lead.text}`,
            user: grant.value!.user,
            app: grant.value!.app,
            end: window.end!,
            before: lead.text,
            file: grant.file,
          })),
  );
}

describe("the daemon's schedule", () => {
  it('answers nextChange, appsDue and dueNotices as a pass over every grant does', async () => {
    const people = ['ana', 'ben', 'cy', 'dee', 'eve', 'fay'];
    const tree: Record<string, string> = {
      'grants/_settings.yaml': 'timezone: Europe/Berlin\npolicy: { verifyMerges: false }\n',
      'grants/_people.yaml': `people:\n${people.map((p) => `  - { id: ${p}, name: ${p}, email: ${p}@example.com }\n`).join('')}`,
    };
    let n = 0;
    for (const app of ['db', 'wh', 'crm']) {
      tree[`grants/${app}/_app.yaml`] =
        `name: ${app}\nconnector: { type: postgres }\nentitlements:\n  - { id: read, kind: role, role: ${app}_read }\n`;
      for (const person of people) {
        n++;
        const start =
          n % 3 === 0 ? `start: ${iso(T0 + (n % 4) * DAY)}\n` : n % 5 === 0 ? 'start: 2026-12-02\n' : '';
        const end =
          n % 2 === 0 ? `end: ${iso(T0 + (n % 5) * DAY + DAY)}\n` : n % 7 === 0 ? 'end: 2026-12-04\n' : '';
        tree[`grants/${app}/${person}.yaml`] =
          `user: ${person}\napp: ${app}\npermissions: [read]\n${start}${end}`;
      }
    }
    const repo = await loadRepo(writeTree(tree));
    const zone = zoneOf(repo);
    const leads = [
      { text: '3d', ms: 3 * DAY },
      { text: '1d', ms: DAY },
    ];
    const instants = [T0 - 10 * DAY, T0 + 20 * DAY];
    for (const { window } of everyWindow(repo))
      for (const t of [window.start, window.end]) if (t !== undefined) instants.push(t - 1, t, t + 1);
    for (const now of instants) {
      expect(nextChange(repo, zone, now)).toEqual(nextBrute(repo, now));
      expect(dueNotices(repo, zone, now, leads)).toEqual(noticesBrute(repo, now, leads));
      for (const to of instants) expect(appsDue(repo, zone, now, to)).toEqual(dueBrute(repo, now, to));
    }
  });
});

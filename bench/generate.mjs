// Generates a large access repository for benchmarks: people, apps (half of
// them licensed) and grants, deterministic for a given size.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function generateRepo(dir, { people = 10_000, apps = 200, grants = 100_000 } = {}) {
  const marker = join(dir, '.generated');
  const signature = JSON.stringify({ people, apps, grants, v: 3 });
  // Made before with these parameters: reuse it; otherwise (another size, an older generator) make it again.
  if (existsSync(marker) && readFileSync(marker, 'utf8') === signature) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'grants'), { recursive: true });
  let seed = 42;
  const random = (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const personIds = Array.from({ length: people }, (_, i) => `person-${String(i).padStart(5, '0')}`);
  writeFileSync(
    join(dir, 'grants/_settings.yaml'),
    'timezone: Europe/Berlin\nroles:\n  super-admin: [person-00000]\n  users-read-write: [person-00001]\nlimits:\n  maxRemovals: 1000000\n  maxRemovalShare: 1\n',
  );
  writeFileSync(
    join(dir, 'grants/_people.yaml'),
    `people:\n${personIds.map((id) => `  - id: ${id}\n    name: Person ${id.slice(7)}\n    email: ${id}@example.com\n    accounts: { github: gh-${id} }\n`).join('')}`,
  );
  const perApp = grants / apps;
  for (let a = 0; a < apps; a++) {
    const app = `app-${String(a).padStart(3, '0')}`;
    const licensed = a % 2 === 0;
    mkdirSync(join(dir, 'grants', app));
    const entitlements = Array.from(
      { length: 10 },
      (_, e) => `  - id: ent-${e}\n    kind: role\n    role: ${app.replace(/-/g, '_')}_ent_${e}\n`,
    ).join('');
    const licenses = licensed
      ? `licenses:\n  - id: standard\n    seats: ${perApp}\n    role: ${app.replace(/-/g, '_')}_standard\n  - id: pro\n    seats: ${perApp}\n    role: ${app.replace(/-/g, '_')}_pro\n`
      : '';
    writeFileSync(
      join(dir, 'grants', app, '_app.yaml'),
      `name: App ${a}\nconnector:\n  type: postgres\nentitlements:\n${entitlements}${licenses}approvers: [person-00002]\n`,
    );
    // Each app takes a contiguous run of people, so (user, app) is unique.
    for (let g = 0; g < perApp; g++) {
      const user = personIds[(a * 37 + g) % people];
      const permissions = [`ent-${random(10)}`, `ent-${(random(9) + 1) % 10}`].filter(
        (p, i, l) => l.indexOf(p) === i,
      );
      let body = `user: ${user}\napp: ${app}\npermissions: [${permissions.join(', ')}]\n`;
      if (licensed) body += `license: ${g % 3 === 0 ? 'pro' : 'standard'}\n`;
      if (g % 4 === 1) body += `start: 2026-${String(1 + random(12)).padStart(2, '0')}-01\n`;
      if (g % 5 === 2) body += `end: 2027-${String(1 + random(12)).padStart(2, '0')}-15\n`;
      body += `reason: Ticket ACC-${a * 1000 + g}\n`;
      writeFileSync(join(dir, 'grants', app, `${user}.yaml`), body);
    }
  }
  writeFileSync(marker, signature);
  return dir;
}

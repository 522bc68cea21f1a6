import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NO_VERIFY } from '../helpers/repo.js';
import { files, type World, world } from './world.js';

let w: World | undefined;
let hook: Server | undefined;
afterEach(async () => {
  await w?.stop();
  await new Promise((resolve) => (hook ? hook.close(resolve) : resolve(undefined)));
  w = undefined;
  hook = undefined;
});

/** A loopback webhook that keeps what it is sent. */
async function webhook(): Promise<{ url: string; texts: string[] }> {
  const texts: string[] = [];
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      texts.push((JSON.parse(body) as { text: string }).text);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => hook!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`, texts };
}

describe('review cadence and reminders', () => {
  it('lists what is due, reminds reviewers once per lead time on their pull request and the notify webhook', async () => {
    const hooked = await webhook();
    w = await world({
      ...files,
      'grants/_settings.yaml': `timezone: UTC\nroles:\n  super-admin: [alice]\nnotify: { before: [7d, 1d], webhookEnv: HOOK }\n${NO_VERIFY}`,
      'grants/db/_app.yaml': `${files['grants/db/_app.yaml']}review: { every: P90D }\n`,
    });
    w.env.HOOK = hooked.url;
    const due = await w.iden(['review', 'due', '--at', '2026-11-27'], 'alice');
    expect(due.stdout).toBe('overdue  db  every P90D  last never  next now\n');

    expect(
      (await w.iden(['review', 'start', '--app', 'db', '--due', '2026-12-11', '--name', 'q4'], 'alice')).code,
    ).toBe(0);
    expect((await w.iden(['review', 'remind', 'q4', '--at', '2026-12-03'], 'alice')).stdout).toContain(
      'No reminder due.',
    );
    const first = await w.iden(['review', 'remind', 'q4', '--at', '2026-12-05'], 'alice');
    expect(first.stdout).toContain('Reminded bob on #1 (7d before): 1 not answered; webhook sent.');
    expect(first.stdout).toContain('Reminded carol on #2 (7d before): 2 not answered; webhook sent.');
    expect((await w.iden(['review', 'remind', 'q4', '--at', '2026-12-06'], 'alice')).stdout).toContain(
      'No reminder due.',
    );
    await w.iden(['review', 'remind', 'q4', '--at', '2026-12-10T12:00:00Z'], 'alice');
    expect(w.server.comments.map((c) => [c.issue, c.body.split('\n')[0]])).toEqual([
      [1, '<!-- iden-review-remind q4 7d -->'],
      [2, '<!-- iden-review-remind q4 7d -->'],
      [1, '<!-- iden-review-remind q4 1d -->'],
      [2, '<!-- iden-review-remind q4 1d -->'],
    ]);
    expect(hooked.texts).toHaveLength(4);
    expect(hooked.texts[1]).toContain(
      '@carol-gh: access review q4 is due 2026-12-11; 2 grants not answered here end 2026-12-11 unless kept',
    );

    expect(
      (await w.iden(['review', 'close', 'q4', '--at', '2026-12-11'], 'alice', '2026-12-11T00:00:00Z')).code,
    ).toBe(0);
    const after = await w.iden(['review', 'due', '--at', '2026-12-12'], 'alice');
    expect(after.stdout).toBe('ok       db  every P90D  last q4 2026-12-11  next 2027-03-11\n');
    expect(w.server.errors).toEqual([]);
  }, 180_000);
});

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localStateDir } from '../git/state.js';
import { parseDuration } from '../model/duration.js';
import type { AccessRepo } from '../model/repo.js';
import { humanTime, isoUtc, zoneOf } from '../model/time.js';
import type { Logger } from './log.js';
import { dueNotices } from './schedule.js';

/**
 * Notices before expiry (the settings' `notify`): each grant, end and lead
 * time once, POSTed as Slack-compatible `{"text"}` to the URL in the
 * variable `notify.webhookEnv` names, remembered in `.iden/serve/notices.json`
 * so a restart sends nothing twice. Every request has a deadline.
 */
export async function sendNotices(
  root: string,
  repo: AccessRepo,
  now: number,
  env: NodeJS.ProcessEnv,
  log: Logger,
): Promise<void> {
  const config = repo.settings?.value?.notify;
  if (!config?.before?.length || !config.webhookEnv) return;
  const url = env[config.webhookEnv];
  if (!url) {
    log('warn', 'notices not sent', { why: `${config.webhookEnv} is not set` });
    return;
  }
  const leads = config.before.flatMap((text) => {
    const ms = parseDuration(text);
    return ms === undefined ? [] : [{ text, ms }];
  });
  const file = join(localStateDir(root, 'serve'), 'notices.json');
  const sent = new Set<string>(existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as string[]) : []);
  const zone = zoneOf(repo);
  for (const n of dueNotices(repo, zone, now, leads)) {
    if (sent.has(n.key)) continue;
    const text = `${n.user}'s access to ${n.app} ends ${humanTime(n.end, zone)} (${n.file}). To extend it: iden change --app ${n.app} --user ${n.user} --end <date>, or edit the file's end in a pull request.`;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
        signal: AbortSignal.timeout(30_000),
      });
      if (!res.ok) throw new Error(`the webhook answered ${res.status}`);
      sent.add(n.key);
      writeFileSync(file, JSON.stringify([...sent]));
      log('info', 'notice sent', { user: n.user, app: n.app, end: isoUtc(n.end), before: n.before });
    } catch (e) {
      log('error', 'notice not sent', { user: n.user, app: n.app, error: (e as Error).message });
    }
  }
}

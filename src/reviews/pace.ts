import { contentLimits, Pacer } from '../connectors/github/client.js';
import type { PullContext } from '../github/client.js';
import type { Clock } from '../model/clock.js';

/** How far apart a campaign's writes to GitHub go: as the github connector's writes, by default. */
export const WRITE_INTERVAL_MS = 1000;

/**
 * The campaign's GitHub calls paced as the github connector paces its
 * writes (connectors/github/client.ts): one write at a time, at least a
 * second apart, content-creating ones (opening a pull request, a comment,
 * a merge) within GitHub's 80 a minute and 500 an hour, on the run's clock.
 * Reads are not paced; there are a few per reviewer, never per item.
 */
export function paced(
  ctx: PullContext,
  clock: Pick<Clock, 'now' | 'sleep'>,
  onNotice: (text: string) => void = () => undefined,
): PullContext & { pacer: Pacer } {
  const pacer = new Pacer(WRITE_INTERVAL_MS, onNotice, clock, contentLimits());
  ctx.octokit.hook.before('request', async (options) => {
    const method = String(options.method ?? 'GET').toUpperCase();
    if (method === 'GET' || method === 'HEAD') return;
    await pacer.beforeWrite(method !== 'DELETE');
  });
  return { ...ctx, pacer };
}

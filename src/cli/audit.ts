import { resolve } from 'node:path';
import { addApprovers, reviewSource } from '../audit/approvers.js';
import { accessAsOf } from '../audit/as-of.js';
import { auditEvents } from '../audit/audit.js';
import { loadRepo } from '../load/repo.js';
import { isTimeZone } from '../model/time.js';
import { type AuditFormat, formatAccess, formatEvents } from '../report/audit.js';
import { EXIT, type Io } from './io.js';
import { atOption } from './options.js';

export interface AuditOptions {
  repo?: string;
  user?: string;
  app?: string;
  since?: string;
  until?: string;
  asOf?: string;
  format: AuditFormat;
}

export async function runAudit(options: AuditOptions, io: Io): Promise<number> {
  const root = resolve(io.cwd, options.repo ?? '.');
  const repo = await loadRepo(root);
  const zone = repo.settings?.value?.timezone;
  if (options.asOf !== undefined) {
    const view = await accessAsOf(root, atOption(options.asOf, repo, '--as-of'), options.app);
    io.stdout(formatAccess(view, options.format));
    return EXIT.ok;
  }
  const events = await auditEvents(root, {
    user: options.user,
    app: options.app,
    since: options.since === undefined ? undefined : atOption(options.since, repo, '--since'),
    until: options.until === undefined ? undefined : atOption(options.until, repo, '--until'),
    zone: zone && isTimeZone(zone) ? zone : 'UTC',
    now: Date.now(),
  });
  const source = await reviewSource(root, io.env);
  if (source) {
    try {
      await addApprovers(root, events, source);
    } catch (e) {
      io.stderr(`notice: approvers not shown: cannot read reviews from GitHub: ${(e as Error).message}\n`);
    }
  }
  io.stdout(formatEvents(events, options.format));
  return EXIT.ok;
}

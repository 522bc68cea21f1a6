// The start of an audit, made as early as the process can: the branch's
// history is read (git log) before the rest of the audit's modules and HEAD's
// loader are loaded, so that they load while git works.
import type { AccessRepo } from '../model/repo.js';
import type { Instant } from '../model/time.js';
import type { AuditData } from './audit.js';
import { readHistory } from './history.js';

/**
 * HEAD's settings (with its people and apps where the question needs them)
 * and the audit's data, read side by side: only the records' check waits for
 * HEAD's settings (records.signedSince: before it, records may be unsigned).
 */
export async function startAudit(
  root: string,
  env: NodeJS.ProcessEnv,
  now: Instant,
  wants: { people: boolean; apps: boolean },
  /** HEAD's commit and whether the clone is shallow, when read with the root (repositoryStart). */
  known?: { head: string | null; shallow: boolean },
): Promise<{ repo: AccessRepo; data: AuditData }> {
  const history = readHistory(root, known);
  const head = import('./query.js').then((q) => q.headRepo(root, wants.people, wants.apps, known?.head));
  const signedSince = head.then((r) => r.settings?.value?.records?.signedSince);
  // Each is awaited below: a failure while the modules load is reported there, not as unhandled.
  for (const p of [history, head, signedSince]) p.catch(() => undefined);
  const { readAudit } = await import('./audit.js');
  const [repo, data] = await Promise.all([
    head,
    readAudit(
      root,
      env,
      now,
      signedSince.then((s) => (s ? Date.parse(s) : undefined)),
      history,
    ),
  ]);
  return { repo, data };
}

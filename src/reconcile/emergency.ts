// Emergency access approved after the fact, checked at apply: a grant whose
// file once said `emergency: true` and no longer does is cut at its window
// like emergency access unless the change that removed the flag came
// through an approved pull request (the same gate as grant changes). So a
// pull request that only removes the flag, merged past check-pr without its
// approvals, does not keep the access.
import type { AccessRepo } from '../model/repo.js';
import type { Instant } from '../model/time.js';
import { grantWindow } from '../model/window.js';
import { emergencyCut } from '../rules/emergency.js';
import { emergencyWindow } from '../rules/resolve.js';
import type { BranchLog } from './branch.js';
import { onceEmergency, type Past } from './history.js';
import { unverifiedFiles, type VerifiedFile } from './verify.js';

/** The grant files to treat as still emergency access, and the verdicts reached deciding it. */
export async function unapprovedEmergency(
  repo: AccessRepo,
  past: Past,
  input: { head: string | undefined; branch: BranchLog | undefined; env: NodeJS.ProcessEnv },
  zone: string,
  at: Instant,
): Promise<{ files: Set<string>; verified: VerifiedFile[] }> {
  const duration = emergencyWindow(repo.settings?.value);
  // Only grants with an earlier version that the cut would end by now are looked at: a map lookup for
  // the rest, and no git or GitHub.
  const candidates = repo.grants.filter((g) => {
    const value = g.value;
    if (!value || value.emergency === true || value.start === undefined) return false;
    if ((past.branch.versions.get(g.file)?.length ?? 0) < 2) return false;
    const window = grantWindow(value, zone);
    const cut = emergencyCut({ emergency: true }, window, duration, zone);
    return cut?.end !== undefined && cut.end !== window?.end && cut.end <= at;
  });
  if (candidates.length === 0 || !input.head) return { files: new Set(), verified: [] };
  const once = await onceEmergency(
    repo.root,
    past,
    candidates.map((g) => g.file),
  );
  if (once.size === 0) return { files: new Set(), verified: [] };
  const { failed, verified } = await unverifiedFiles(
    {
      root: repo.root,
      head: input.head,
      ...(input.branch ? { branch: input.branch } : {}),
      repo,
      env: input.env,
    },
    [...once],
  );
  return { files: new Set(failed.keys()), verified };
}

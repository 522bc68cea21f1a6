// Nothing bad is written: the repository as a proposal would make it,
// validated before anything is written, as check-pr would validate it.
import { CommitTree } from '../git/tree.js';
import { OverlayTree } from '../load/overlay.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { AccessRepo } from '../model/repo.js';
import { GRANT_PATH } from '../policy/classify.js';
import type { Proposal } from '../report/flow.js';
import { changeDiagnostics } from '../validate/change.js';
import { loadScope, type Workspace } from './workspace.js';

export interface Checked {
  /** The repository before and after, as far as the check read it. */
  before: AccessRepo;
  after: AccessRepo;
  /** Findings in the files the proposal writes, and errors it brings anywhere else. */
  findings: Diagnostic[];
  ok: boolean;
}

/**
 * A change to grant files is validated with its apps' folders and every other
 * file but other apps' grants (as check-pr does); a change to people,
 * settings or apps with every file.
 */
export async function checkProposal(ws: Workspace, proposal: Proposal): Promise<Checked> {
  const touched = new Set(proposal.changes.keys());
  const grantFolders = [...touched].flatMap((p) => GRANT_PATH.exec(p)?.[1] ?? []);
  const scope = [...touched].some((p) => !GRANT_PATH.test(p)) ? 'all' : [...new Set(grantFolders)];
  const same =
    scope !== 'all' && scope.length === ws.focused.length && scope.every((f) => ws.focused.includes(f));
  if (!same)
    ws.tree =
      scope === 'all'
        ? await CommitTree.open(ws.root, ws.head)
        : await CommitTree.openSome(ws.root, ws.head, scope);
  const before = same ? ws.repo : await loadScope(ws.tree, scope, ws.memo);
  const after = await loadScope(new OverlayTree(ws.tree, proposal.changes), scope, ws.memo);
  const findings = await changeDiagnostics(before, after, ws.now, touched, {
    blame: touched,
    elsewhere: 'errors',
  });
  return { before, after, findings, ok: !findings.some((d) => d.severity === 'error') };
}

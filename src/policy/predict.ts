// The policy's verdict on a change before it is a pull request: what
// `iden check-pr` will decide, judged by the same judge, so that the grant
// flow can say it and request the right reviewers.
import type { AccessRepo } from '../model/repo.js';
import type { Instant } from '../model/time.js';
import type { Tree } from '../model/tree.js';
import { basePolicy } from './base-policy.js';
import { type FileVerdict, GRANT_PATH } from './classify.js';
import { judgeChange, type RawChange } from './judge.js';
import { recentRevocations } from './revocations.js';

export type Action = 'grant' | 'change' | 'revoke' | 'offboard';

/** How the grant flow's commands classify what they propose (the JSON contract's `classification`). */
export type ProposalClassification =
  | 'direct-grant'
  | 'access-request'
  | 'change'
  | 'revocation'
  | 'revocation-request';

export interface Forecast {
  classification: ProposalClassification;
  /** Person ids who can approve. */
  approvers: string[];
  /** GitHub logins to ask for a review (never the author's). */
  reviewers: string[];
  /** Whether files other than grants change: a policy change. */
  policy: boolean;
  verdicts: FileVerdict[];
}

export interface Proposed {
  root: string;
  head: string;
  now: Instant;
  zone: string;
  /** The repository at HEAD as the flow read it: its policy files judge. */
  repo: AccessRepo;
  /** HEAD's tree, to tell a new file from an edited one. */
  tree: Pick<Tree, 'kind'>;
  before: AccessRepo;
  after: AccessRepo;
  action: Action;
  changes: ReadonlyMap<string, string | null>;
  /** The author's login first, then other logins that wrote it (the commit's author). */
  logins: string[];
  /** Why the author is not known, when it is not. */
  unknown: string[];
}

/** Judges a proposed change as check-pr will, with no reviews yet. */
export async function forecast(p: Proposed): Promise<Forecast> {
  const policy = basePolicy(p.repo);
  const changed: RawChange[] = [...p.changes].map(([path, content]) => {
    const existed = p.tree.kind(path) !== undefined;
    return {
      status: content === null ? 'D' : existed ? 'M' : 'A',
      path,
      oldMode: existed ? '100644' : '',
      newMode: content === null ? '' : '100644',
    };
  });
  const [first, ...others] = p.logins;
  const verdicts = judgeChange({
    policy: p.repo,
    before: p.before,
    after: p.after,
    changed,
    pull: {
      ...(first !== undefined ? { author: { login: first } } : {}),
      head: p.head,
      commits: [],
      reviews: [],
      named: others,
      unknown: p.unknown,
    },
    revoked: await recentRevocations(p.root, p.head, p.now, p.zone),
  });
  const needs = verdicts.filter((v) => !v.ok);
  const approvers = [...new Set(needs.flatMap((v) => v.approvers))].sort();
  const me = new Set(p.logins.map((l) => l.toLowerCase()));
  // Review requests go to the app's own approvers; Super Admins only where no app approver can approve.
  const asked = new Set<string>();
  for (const v of needs) {
    const app = GRANT_PATH.exec(v.file)?.[1];
    const unmet = (v.rules ?? []).filter((r) => !r.met && r.from);
    if (unmet.length > 0) {
      // Under access rules: each unmet rule's own people, the app's approvers first when they are enough.
      for (const r of unmet) {
        const own = app ? r.from!.filter((id) => policy.approvers.get(app)?.has(id)) : [];
        for (const id of own.length >= r.needed - r.counted.length ? own : r.from!) asked.add(id);
      }
      continue;
    }
    const own =
      app && v.classification !== 'policy'
        ? v.approvers.filter((id) => policy.approvers.get(app)?.has(id))
        : [];
    for (const id of own.length > 0 ? own : v.approvers) asked.add(id);
  }
  const reviewers = [...asked]
    .sort()
    .map((id) => policy.loginOf.get(id))
    .filter((l): l is string => l !== undefined && !me.has(l.toLowerCase()));
  const grants = verdicts.filter((v) => GRANT_PATH.test(v.file) && v.classification !== 'policy');
  return {
    classification: overall(p.action, grants, needs.length > 0),
    approvers,
    reviewers,
    policy: verdicts.some((v) => v.classification === 'policy'),
    verdicts,
  };
}

function overall(action: Action, grants: FileVerdict[], needsApproval: boolean): ProposalClassification {
  if (action === 'grant')
    return grants[0]?.classification === 'direct-grant' ? 'direct-grant' : 'access-request';
  if (action === 'change') return 'change';
  return needsApproval ? 'revocation-request' : 'revocation';
}

/** A review as GitHub's "list reviews for a pull request" returns it (the fields used). */
export interface Review {
  user: { login: string } | null;
  state: string;
  commit_id: string | null;
  submitted_at?: string | null;
}

/** What the base branch says about people and roles: a pull request cannot change it for itself. */
export interface BasePolicy {
  /** GitHub login (lowercase) to person id. */
  logins: Map<string, string>;
  superAdmins: Set<string>;
  readWrite: Set<string>;
  /** App id to the person ids who approve its requests. */
  approvers: Map<string, Set<string>>;
}

export type ChangeKind = 'added' | 'modified' | 'deleted';
export type Classification =
  | 'direct-grant'
  | 'access-request'
  | 'change'
  | 'revocation'
  | 'revocation-request'
  | 'policy';

export interface FileVerdict {
  file: string;
  change: ChangeKind;
  classification: Classification;
  ok: boolean;
  reason: string;
}

export interface PolicyInput {
  author: string;
  head: string;
  files: { status: 'A' | 'M' | 'D'; path: string }[];
  reviews: Review[];
  base: BasePolicy;
}

const GRANT = /^grants\/([a-z0-9][a-z0-9._-]*)\/([a-z0-9][a-z0-9._-]*)\.yaml$/;
const CHANGE: Record<'A' | 'M' | 'D', ChangeKind> = { A: 'added', M: 'modified', D: 'deleted' };

/**
 * The pull-request policy of the product's Grant Access flow, pure: an admin's
 * new grant is a direct grant; anyone else's is an access request needing an
 * approver; an edit of existing access always needs approval; settings,
 * people, apps, schemas and workflows need a Super Admin's approval. Only
 * APPROVED reviews of the head commit by someone other than the author count.
 */
export function classify(input: PolicyInput): FileVerdict[] {
  const { base } = input;
  const author = base.logins.get(input.author.toLowerCase());
  const isAdmin = author !== undefined && (base.superAdmins.has(author) || base.readWrite.has(author));
  const role = author && base.superAdmins.has(author) ? 'Super Admin' : 'Users Read/Write';
  const approved = approvals(input);
  const verdicts: FileVerdict[] = [];
  for (const { status, path } of input.files) {
    const change = CHANGE[status];
    const grant = GRANT.exec(path);
    const policyFile =
      path.startsWith('schemas/') || path.startsWith('.github/') || (path.startsWith('grants/') && !grant);
    if (!grant && !policyFile) continue;
    if (!grant || path.endsWith('/_app.yaml')) {
      const by = [...approved].filter((p) => base.superAdmins.has(p));
      verdicts.push({
        file: path,
        change,
        classification: 'policy',
        ok: by.length > 0,
        reason:
          by.length > 0
            ? `approved by Super Admin ${by.join(', ')}`
            : `needs an approval of ${short(input.head)} by a Super Admin${names(base.superAdmins, author)}`,
      });
      continue;
    }
    const app = grant[1]!;
    const eligible = new Set([...(base.approvers.get(app) ?? []), ...base.superAdmins]);
    const by = [...approved].filter((p) => eligible.has(p));
    const approval = by.length > 0 ? `approved by ${by.join(', ')}` : undefined;
    const needs = `needs an approval of ${short(input.head)} by an approver of ${app} or a Super Admin${names(eligible, author)}, other than the author`;
    if (change === 'added' && isAdmin) {
      verdicts.push({
        file: path,
        change,
        classification: 'direct-grant',
        ok: true,
        reason: `direct grant by ${input.author} (${role}): no approval needed`,
      });
    } else if (change === 'deleted' && isAdmin) {
      verdicts.push({
        file: path,
        change,
        classification: 'revocation',
        ok: true,
        reason: `revocation by ${input.author} (${role})`,
      });
    } else {
      const classification: Classification =
        change === 'added' ? 'access-request' : change === 'deleted' ? 'revocation-request' : 'change';
      const what =
        change === 'modified'
          ? 'a change to existing access'
          : classification === 'access-request'
            ? 'an access request'
            : 'a revocation by a non-admin';
      verdicts.push({
        file: path,
        change,
        classification,
        ok: approval !== undefined,
        reason: approval ?? `${what}: ${needs}`,
      });
    }
  }
  return verdicts;
}

/** People (not the author) whose latest review of the head commit is APPROVED. */
function approvals(input: PolicyInput): Set<string> {
  const latest = new Map<string, string>();
  const ordered = [...input.reviews].sort(
    (a, b) => Date.parse(a.submitted_at ?? '') - Date.parse(b.submitted_at ?? ''),
  );
  for (const review of ordered) {
    const login = review.user?.login?.toLowerCase();
    if (!login || login === input.author.toLowerCase() || review.commit_id !== input.head) continue;
    if (review.state === 'COMMENTED') continue;
    latest.set(login, review.state);
  }
  const author = input.base.logins.get(input.author.toLowerCase());
  const people = new Set<string>();
  for (const [login, state] of latest) {
    const person = input.base.logins.get(login);
    // A second account of the author's is still the author.
    if (state === 'APPROVED' && person !== undefined && person !== author) people.add(person);
  }
  return people;
}

function names(people: Set<string>, author: string | undefined): string {
  const others = [...people].filter((p) => p !== author);
  return others.length > 0 ? ` (${others.join(', ')})` : '';
}

function short(sha: string): string {
  return sha.slice(0, 7);
}

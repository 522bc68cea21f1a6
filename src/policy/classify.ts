import picomatch from 'picomatch';

/** A review as GitHub's "list reviews for a pull request" returns it (the fields used). */
export interface Review {
  id?: number;
  user: { login: string; id?: number | undefined } | null;
  state: string;
  commit_id: string | null;
  submitted_at?: string | null;
}

/** What the base branch says about people and roles: a pull request cannot change it for itself. */
export interface BasePolicy {
  /** GitHub login (lowercase) to person id. */
  logins: Map<string, string>;
  /** Person id to their GitHub login, as written. */
  loginOf: Map<string, string>;
  /** Person id to the numeric GitHub id _people.yaml pins their login to (githubId), where it does. */
  githubIds: Map<string, number>;
  superAdmins: Set<string>;
  readWrite: Set<string>;
  /** App id to the person ids who approve its requests. */
  approvers: Map<string, Set<string>>;
  /** Glob patterns of paths that need no approval (`policy.exempt`). */
  exempt: string[];
}

/** Who wrote the pull request: its author and every commit's author and committer. */
export interface Contributors {
  /** GitHub logins, the pull request's author first. */
  logins: string[];
  /** Numeric GitHub ids by lowercase login, where GitHub gave them. */
  ids?: Map<string, number>;
  /** Commits whose author or committer GitHub names no account for (or, with verifiedCommitsOnly, did not verify). */
  unknown: string[];
}

export type ChangeKind = 'added' | 'modified' | 'deleted';
export type Classification =
  | 'direct-grant'
  | 'access-request'
  | 'change'
  | 'revocation'
  | 'revocation-request'
  | 'policy'
  | 'exempt';

/** One changed path, as git names it, and the people whose own access it touches. */
export type { ChangedFile } from '../model/change-file.js';

import { type Judged, judgeReviews, latestReviews, personOf } from './reviews.js';

export { type Judged, judgeReviews, latestReviews, personOf };

import type { ChangedFile } from '../model/change-file.js';

export interface ReviewNote {
  login: string;
  person?: string;
  /** The reviewer's latest state: APPROVED, CHANGES_REQUESTED or DISMISSED. */
  state: string;
  counted: boolean;
  why: string;
}

export interface FileVerdict {
  file: string;
  change: ChangeKind;
  classification: Classification;
  ok: boolean;
  reason: string;
  /** Each reviewer's latest review, and why it did or did not count for this file. */
  reviews: ReviewNote[];
  /** Who could approve this file (person ids): empty when no approval is needed or no one can give it. */
  approvers: string[];
  /** The access rules the file was judged under (src/rules/judge.ts), and how each was met. */
  rules?: RuleVerdict[];
  /** Emergency access, let through without approval and to be approved after the fact. */
  emergency?: boolean;
  /** Access a rule marks privileged. */
  privileged?: boolean;
}

/** One access rule a grant file was judged under. */
export interface RuleVerdict {
  rule: string;
  /** Approvals the rule asks for (0: a direct grant it lets through, or emergency access). */
  needed: number;
  /** The people whose approvals counted for it. */
  counted: string[];
  met: boolean;
  /** Why it is or is not met, in words for the pull request. */
  why: string;
  /** While unmet: the people (ids) who may still give the approvals missing, for the review requests. */
  from?: string[];
}

export interface PolicyInput {
  head: string;
  contributors: Contributors;
  files: ChangedFile[];
  reviews: Review[];
  base: BasePolicy;
}

export const GRANT_PATH = /^grants\/([a-z0-9][a-z0-9._-]*)\/([a-z0-9][a-z0-9._-]*)\.yaml$/;
/**
 * Never exempt, whatever `policy.exempt` says: what iden and git read
 * (grants/, schemas/, .iden/, git attributes and modules), what CI runs with
 * every secret (workflows, package manifests and lockfiles, npm's and
 * Node's settings, the Dockerfile), at any depth.
 */
export const NEVER_EXEMPT =
  /^(grants|schemas|\.github|\.iden)(\/|$)|(^|\/)(\.git(attributes|modules)|package\.json|package-lock\.json|npm-shrinkwrap\.json|\.npmrc|\.nvmrc|Dockerfile)$/;
const REGULAR = '100644';
const CHANGE: Record<ChangedFile['status'], ChangeKind> = {
  A: 'added',
  M: 'modified',
  D: 'deleted',
  T: 'modified',
};

/**
 * The pull-request policy, pure and deny by default. A new grant file is a
 * direct grant only when the author and every committer hold Super Admin or
 * Users Read/Write and none of them is its grantee; otherwise it is an access
 * request. An edit of existing access needs approval unless it only takes access away (a revocation). Every other
 * path, apart from those `policy.exempt` lists, needs a Super Admin's
 * approval. An approval counts only from an eligible person who is not the
 * author, not a committer and not someone whose own access the file touches,
 * and only when their latest review approves the head commit.
 */
export function classify(input: PolicyInput): FileVerdict[] {
  const { base, contributors } = input;
  const writers = new Map<string, string | undefined>();
  for (const login of contributors.logins)
    writers.set(login.toLowerCase(), personOf(base, login, contributors.ids?.get(login.toLowerCase())));
  const writerPeople = new Set([...writers.values()].filter((p): p is string => p !== undefined));
  const roleOf = (person: string | undefined) =>
    person === undefined
      ? undefined
      : base.superAdmins.has(person)
        ? 'Super Admin'
        : base.readWrite.has(person)
          ? 'Users Read/Write'
          : undefined;
  const nonAdmin = [...writers].filter(([, person]) => roleOf(person) === undefined).map(([login]) => login);
  const admins = nonAdmin.length === 0 && contributors.unknown.length === 0;
  const byWhom = [...writers]
    .map(
      ([login, person]) =>
        `${contributors.logins.find((l) => l.toLowerCase() === login)} (${roleOf(person)})`,
    )
    .join(' and ');
  const latest = latestReviews(input.reviews);
  const exempt = base.exempt.length > 0 ? picomatch(base.exempt, { dot: true }) : () => false;

  return input.files.map((file): FileVerdict => {
    const change = CHANGE[file.status];
    const grant = GRANT_PATH.exec(file.path);
    const regular =
      file.status !== 'T' &&
      (file.oldMode === '' || file.oldMode === REGULAR) &&
      (file.newMode === '' || file.newMode === REGULAR);
    const judge = (eligible: Set<string>, role: string) =>
      judgeReviews(latest, input.head, eligible, writerPeople, new Set(file.affects), base, role);

    if (!grant || !regular) {
      if (!NEVER_EXEMPT.test(file.path) && exempt(file.path)) {
        return {
          file: file.path,
          change,
          classification: 'exempt',
          ok: true,
          reason: 'exempt from approval by policy.exempt in _settings.yaml',
          reviews: [],
          approvers: [],
        };
      }
      const peopleEdit = file.path === 'grants/_people.yaml' && file.namesOnly === true;
      const eligible = new Set([...base.superAdmins, ...(peopleEdit ? base.readWrite : [])]);
      const who = peopleEdit ? 'a Super Admin or a Users Read/Write admin' : 'a Super Admin';
      const what = !grant
        ? peopleEdit
          ? 'a change to names or emails in _people.yaml'
          : 'a policy change'
        : 'a grant path that is not a regular file';
      const judged = judge(eligible, peopleEdit ? 'an admin' : 'a Super Admin');
      return verdict(file, change, 'policy', judged, what, who, input.head, base, peopleEdit);
    }

    const app = grant[1]!;
    const grantees = new Set(file.affects);
    const forSelf = [...grantees].filter((p) => writerPeople.has(p));
    // A revocation and a new grant soon after are, together, an edit of existing access.
    const regrant = change === 'added' ? file.regrant : undefined;
    if (admins && forSelf.length === 0 && !regrant && (change === 'added' || change === 'deleted')) {
      return {
        file: file.path,
        change,
        classification: change === 'added' ? 'direct-grant' : 'revocation',
        ok: true,
        reason:
          change === 'added' ? `direct grant by ${byWhom}: no approval needed` : `revocation by ${byWhom}`,
        reviews: [],
        approvers: [],
      };
    }
    // Ending access sooner (or putting a grant back as the protected branch has it) takes nothing
    // from anyone's safety: whoever writes it, it is a revocation, as an access review proposes.
    if (change === 'modified' && file.shortens) {
      return {
        file: file.path,
        change,
        classification: 'revocation',
        ok: true,
        reason: 'a revocation: it only shortens access or restores it as the protected branch has it',
        reviews: [],
        approvers: [],
      };
    }
    // An admin may revoke their own access, but never grant it to themselves.
    if (admins && change === 'deleted') {
      return {
        file: file.path,
        change,
        classification: 'revocation',
        ok: true,
        reason: `revocation by ${byWhom}`,
        reviews: [],
        approvers: [],
      };
    }
    const classification: Classification = regrant
      ? 'change'
      : change === 'added'
        ? 'access-request'
        : change === 'deleted'
          ? 'revocation-request'
          : 'change';
    const why =
      change === 'modified'
        ? 'a change to existing access'
        : regrant
          ? `a change to existing access: this grant was revoked on ${new Date(regrant.at).toISOString().slice(0, 10)} (${regrant.commit.slice(0, 7)}), and granting it again within ${REGRANT_DAYS} days is judged as changing it`
          : forSelf.length > 0 && change === 'added'
            ? `an access request: ${forSelf.join(', ')} cannot grant their own access`
            : contributors.unknown.length > 0
              ? `an access request: ${contributors.unknown.join('; ')}`
              : nonAdmin.length > 0
                ? `${classification === 'access-request' ? 'an access request' : 'a revocation request'}: ${nonAdmin.join(', ')} ${nonAdmin.length === 1 ? 'holds' : 'hold'} neither Super Admin nor Users Read/Write`
                : 'an access request';
    const eligible = new Set([...(base.approvers.get(app) ?? []), ...base.superAdmins]);
    const judged = judge(eligible, `an approver of ${app} or a Super Admin`);
    return verdict(
      file,
      change,
      classification,
      judged,
      why,
      `an approver of ${app} or a Super Admin`,
      input.head,
      base,
      false,
    );
  });
}

/** How recently a revoked grant must have been revoked for a new grant of it to count as a change. */
export const REGRANT_DAYS = 30;

function verdict(
  file: ChangedFile,
  change: ChangeKind,
  classification: Classification,
  judged: Judged,
  what: string,
  who: string,
  head: string,
  base: BasePolicy,
  peopleEdit: boolean,
): FileVerdict {
  const ok = judged.by.length > 0;
  let reason: string;
  if (ok) reason = `approved by ${judged.by.join(', ')}`;
  else if (judged.could.length > 0) {
    const noLogin = judged.could.filter((p) => !base.loginOf.has(p));
    reason = `${what}: needs an approval of ${head.slice(0, 7)} by ${who} (${judged.could.join(', ')})`;
    if (noLogin.length > 0)
      reason += `; ${noLogin.join(', ')} ${noLogin.length === 1 ? 'has' : 'have'} no accounts.github in _people.yaml and cannot approve on GitHub`;
  } else {
    const role = classification === 'policy' && !peopleEdit ? 'Super Admin' : 'eligible approver';
    reason = `${what}: no ${role} can approve it${judged.excluded.length > 0 ? ` other than ${judged.excluded.join(', ')}, who wrote it or whose access it is` : ''}; add another ${role === 'Super Admin' ? 'Super Admin' : 'approver'} in a separate pull request, or have a repository administrator merge it past branch protection (iden audit records that)`;
  }
  return {
    file: file.path,
    change,
    classification,
    ok,
    reason,
    reviews: judged.notes,
    approvers: ok ? judged.by : judged.could,
  };
}

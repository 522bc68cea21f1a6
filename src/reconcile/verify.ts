import { resolveRef } from '../git/diff.js';
import { readRecords } from '../git/notes.js';
import type { PullContext } from '../github/client.js';
import { reviewSource, sourceContext } from '../github/repository.js';
import type { Change } from '../model/access.js';
import { macMatches, recordDigest } from '../model/record.js';
import type { AccessRepo } from '../model/repo.js';
import type { FileVerdict } from '../policy/classify.js';
import { findLanding, judgeLanding, type Landing } from '../policy/landing.js';
import { type BranchLog, readBranchLog } from './branch.js';

/** A file's verdict at the commit that brought its content: kept in the apply records, so it is asked once. */
export interface VerifiedFile {
  commit: string;
  path: string;
  ok: boolean;
  reason: string;
  pr?: number;
}

export interface Verification {
  /** Grant changes not to make, each with the file that failed and why. */
  held: { change: Change; file: string; reason: string }[];
  /** Verdicts reached from GitHub in this run (not those remembered), for the run's record. */
  verified: VerifiedFile[];
  /** What the run should say once: verification is off, or an opt-out was ignored. */
  notice?: string;
}

export interface VerifyInput {
  root: string;
  /** The commit being applied (HEAD of the protected branch). */
  head: string | undefined;
  /** Its first-parent history, when the caller has read it already. */
  branch?: BranchLog;
  repo: AccessRepo;
  changes: readonly Change[];
  env: NodeJS.ProcessEnv;
}

const SETTINGS = 'grants/_settings.yaml';
const PEOPLE = 'grants/_people.yaml';

/**
 * The second gate: before a run grants or widens anything, each grant
 * change's files (the grant, its app and the people) must
 * have come, as they now are, through a merged pull request that the policy
 * of the protected branch approved as it stood just before that merge (the
 * judge check-pr uses), on the first-parent history of the branch. What
 * fails is held with why; removals are never held here. Commits up to
 * `policy.verifyFrom` are taken as they are. Without GitHub, grants are
 * held, not applied blind, unless the settings opt out.
 */
export async function verifyGrants(input: VerifyInput): Promise<Verification> {
  const grants = input.changes.filter((c) => c.action === 'grant');
  const out: Verification = { held: [], verified: [] };
  if (grants.length === 0) return out;
  const policy = input.repo.settings?.value?.policy;
  const source = await reviewSource(input.root, input.env);
  const ctx = source && sourceContext(source, input.env);
  const gate = new Gate(
    input,
    ctx,
    await remembered(input.root, input.env.IDEN_RECORD_KEY || undefined),
    out,
  );
  await gate.start(policy?.verifyFrom);

  if (policy?.verifyMerges === false) {
    if (!ctx) {
      out.notice = `apply-time verification is off (policy.verifyMerges: false in ${SETTINGS}${source ? '' : ', and no GitHub to verify against'}): what the branch says is applied without checking it came through an approved pull request`;
      return out;
    }
    const settings = await gate.check(SETTINGS);
    if (settings.ok) {
      out.notice = `apply-time verification is off (policy.verifyMerges: false in ${SETTINGS}, approved in ${settings.commit.slice(0, 7)})`;
      return out;
    }
    out.notice = `policy.verifyMerges: false is ignored: ${settings.reason}`;
  }

  for (const change of grants) {
    // What decides what a grant gives: where its entitlements map (the app), whose account it is (the
    // people), the grant. Shared files first: each is judged once, and a change they fail needs no more.
    const files = [
      `grants/${change.app}/_app.yaml`,
      PEOPLE,
      `grants/${change.app}/${change.user}.yaml`,
    ].filter((f) => input.repo.tree.kind(f) !== undefined);
    for (const file of files) {
      const verdict = await gate.check(file);
      if (verdict.ok) continue;
      out.held.push({ change, file, reason: `not granted: ${verdict.reason}` });
      break;
    }
  }
  return out;
}

/**
 * Whether each file's current content came through an approved pull request,
 * by the same gate as grant changes: the paths that did not, with why. With
 * verification off (policy.verifyMerges: false), none fails.
 */
export async function unverifiedFiles(
  input: Omit<VerifyInput, 'changes'>,
  paths: readonly string[],
): Promise<{ failed: Map<string, string>; verified: VerifiedFile[] }> {
  const out: Verification = { held: [], verified: [] };
  const failed = new Map<string, string>();
  if (paths.length === 0) return { failed, verified: [] };
  const policy = input.repo.settings?.value?.policy;
  if (policy?.verifyMerges === false) return { failed, verified: [] };
  const source = await reviewSource(input.root, input.env);
  const ctx = source && sourceContext(source, input.env);
  const gate = new Gate(
    { ...input, changes: [] },
    ctx,
    await remembered(input.root, input.env.IDEN_RECORD_KEY || undefined),
    out,
  );
  await gate.start(policy?.verifyFrom);
  for (const path of paths) {
    const verdict = await gate.check(path);
    if (!verdict.ok) failed.set(path, verdict.reason);
  }
  return { failed, verified: out.verified };
}

type Verdict = { ok: true; commit: string } | { ok: false; commit: string; reason: string };

/** One run's verification: the branch's history read once, each landing asked of GitHub and judged once. */
class Gate {
  private line: string[] = [];
  private positions = new Map<string, number>();
  private brought = new Map<string, string>();
  private from = -1;
  private readonly verdicts = new Map<string, Verdict>();
  private readonly landings = new Map<string, Promise<Landing | null>>();
  private readonly judged = new Map<string, Promise<Map<string, FileVerdict>>>();

  constructor(
    private readonly input: VerifyInput,
    private readonly ctx: PullContext | undefined,
    private readonly known: Map<string, VerifiedFile>,
    private readonly out: Verification,
  ) {}

  async start(verifyFrom: string | undefined): Promise<void> {
    if (!this.input.head) return;
    const branch = this.input.branch ?? (await readBranchLog(this.input.root, this.input.head));
    this.positions = branch.positions;
    this.line = branch.line;
    // The latest commit that changed a path brought what it holds now.
    for (const [path, versions] of branch.versions) {
      const latest = versions.at(-1);
      if (latest) this.brought.set(path, branch.line[latest.position]!);
    }
    if (verifyFrom !== undefined) {
      const sha = await resolveRef(this.input.root, verifyFrom);
      this.from = sha ? (this.positions.get(sha) ?? -1) : -1;
      if (this.from < 0)
        this.out.notice = `policy.verifyFrom ${verifyFrom} is not on the branch's first-parent history: every commit is verified`;
    }
  }

  /** Whether the file's current content came through an approved pull request. */
  async check(path: string): Promise<Verdict> {
    const commit = this.brought.get(path);
    if (!commit) {
      return {
        ok: false,
        commit: '',
        reason: this.input.head
          ? `no commit on the branch's first-parent history brought ${path} (a shallow clone? fetch the full history)`
          : `${path} is not in a git repository with commits, so iden cannot tell how it came in`,
      };
    }
    const short = commit.slice(0, 7);
    if ((this.positions.get(commit) ?? Number.POSITIVE_INFINITY) <= this.from) return { ok: true, commit };
    const key = `${commit}\u0000${path}`;
    const cached = this.verdicts.get(key) ?? this.remembered(key);
    if (cached) return cached;
    if (!this.ctx)
      return {
        ok: false,
        commit,
        reason: `${path} came in through ${short}, and without GITHUB_TOKEN (and a GitHub repository behind origin or GITHUB_REPOSITORY) iden cannot verify that an approved pull request brought it`,
      };
    let verdict: Verdict;
    let pr: number | undefined;
    try {
      const landing = await this.landing(commit);
      if (!landing) {
        verdict = {
          ok: false,
          commit,
          reason: `${path} came in through ${short}, pushed to the branch without a merged pull request`,
        };
      } else {
        pr = landing.pull.number;
        const file = (await this.judge(landing)).get(path);
        verdict = file?.ok
          ? { ok: true, commit }
          : {
              ok: false,
              commit,
              reason: `${path} came in through pull request #${pr} (${short}), which the policy did not approve: ${file?.reason ?? 'the merge does not change it'}`,
            };
      }
    } catch (e) {
      // Not remembered: GitHub may answer next time.
      return {
        ok: false,
        commit,
        reason: `cannot verify ${path} (${short}): ${(e as Error).message.split('\n')[0]}`,
      };
    }
    this.verdicts.set(key, verdict);
    this.out.verified.push({
      commit,
      path,
      ok: verdict.ok,
      reason: verdict.ok ? 'approved' : verdict.reason,
      ...(pr !== undefined ? { pr } : {}),
    });
    return verdict;
  }

  private remembered(key: string): Verdict | undefined {
    const known = this.known.get(key);
    if (!known) return undefined;
    const verdict: Verdict = known.ok
      ? { ok: true, commit: known.commit }
      : { ok: false, commit: known.commit, reason: known.reason };
    this.verdicts.set(key, verdict);
    return verdict;
  }

  private landing(commit: string): Promise<Landing | null> {
    let found = this.landings.get(commit);
    if (!found) {
      found = findLanding(this.ctx!, this.input.root, this.line, commit);
      this.landings.set(commit, found);
    }
    return found;
  }

  private judge(landing: Landing): Promise<Map<string, FileVerdict>> {
    let judged = this.judged.get(landing.merge);
    if (!judged) {
      judged = judgeLanding(this.input.root, landing);
      this.judged.set(landing.merge, judged);
    }
    return judged;
  }
}

/**
 * Verdicts earlier runs kept in their records. Anyone who can push can write
 * a git note, so only records signed with the record key (IDEN_RECORD_KEY)
 * are believed; without the key, GitHub is asked again.
 */
async function remembered(root: string, key: string | undefined): Promise<Map<string, VerifiedFile>> {
  const known = new Map<string, VerifiedFile>();
  if (!key) return known;
  for (const list of (await readRecords(root)).values()) {
    for (const value of list) {
      const record = value as { digest?: unknown; mac?: unknown; verified?: unknown };
      if (typeof record.digest !== 'string' || typeof record.mac !== 'string') continue;
      if (recordDigest(record as Record<string, unknown>) !== record.digest) continue;
      if (!macMatches(record.mac, record.digest, key)) continue;
      for (const v of Array.isArray(record.verified) ? (record.verified as VerifiedFile[]) : [])
        if (typeof v?.commit === 'string' && typeof v.path === 'string' && typeof v.ok === 'boolean')
          known.set(`${v.commit}\u0000${v.path}`, v);
    }
  }
  return known;
}

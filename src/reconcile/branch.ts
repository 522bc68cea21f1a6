import { resolveRef } from '../git/diff.js';
import { isShallow, streamFirstParentLog } from '../git/log.js';
import { runStateDir } from '../git/state.js';
import { GRANT_PATH } from '../policy/classify.js';

/** A blob a path held, with the first-parent position of the commit it came in at. */
export interface Version {
  blob: string;
  position: number;
}

/**
 * The protected branch's first-parent history as a run needs it, read with
 * one `git log` and replayed once: the order of its commits, and each file
 * under grants/ as the versions it held. Retired mappings, removed accounts,
 * changed grants and apply-time verification all read this one value.
 */
export interface BranchLog {
  head: string | undefined;
  /** Every first-parent commit, oldest first: a commit's index is its position. */
  line: string[];
  /** Each first-parent commit's position. */
  positions: Map<string, number>;
  /** Each path under grants/, the versions it held (deletions are not versions), oldest first. */
  versions: Map<string, Version[]>;
  /** Grant files whose last change on the branch deleted them. */
  deleted: Set<string>;
  shallow: boolean;
}

export const EMPTY_BRANCH: BranchLog = {
  head: undefined,
  line: [],
  positions: new Map(),
  versions: new Map(),
  deleted: new Set(),
  shallow: false,
};

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const ZERO = /^0+$/;
const REGULAR = /^100[67]44$/;

/** The first-parent history of `ref` (a commit), read once. */
export async function readBranchLog(root: string, ref: string): Promise<BranchLog> {
  const head = await resolveRef(root, ref);
  if (!head) return EMPTY_BRANCH;
  const replay = new Replay();
  const scratch = await runStateDir(root);
  const [shallow] = await Promise.all([
    isShallow(root),
    streamFirstParentLog(root, head, scratch, (fields) => replay.fields(fields)),
  ]);
  return { ...replay.finish(), head, shallow };
}

/**
 * Replays `git log --first-parent --raw -z` output, newest commit first.
 * Exported for tests of hostile paths; the reader above feeds it.
 */
export class Replay {
  private readonly newestFirst: string[] = [];
  private readonly versions = new Map<string, Version[]>();
  /** Grant paths seen, each with whether its newest change deleted it. */
  private readonly newest = new Map<string, boolean>();
  private path: string | undefined;
  private raw = '';

  fields(fields: readonly string[]): void {
    for (const text of fields) {
      // A path follows its raw entry, whatever it looks like.
      if (this.path === '') {
        this.path = undefined;
        this.change(this.raw, text);
        continue;
      }
      const field = text.charCodeAt(0) === 10 ? text.slice(1) : text;
      if (field.charCodeAt(0) === 58 /* : */) {
        this.raw = field;
        this.path = '';
      } else if (SHA.test(field)) this.newestFirst.push(field);
    }
  }

  private change(raw: string, path: string): void {
    if (!path.startsWith('grants/') || this.newestFirst.length === 0) return;
    const [, newMode = '', , newBlob = '', status = ''] = raw.slice(1).split(' ');
    const deleted = status[0] === 'D';
    if (GRANT_PATH.test(path) && !this.newest.has(path)) this.newest.set(path, deleted);
    if (deleted || ZERO.test(newBlob) || !REGULAR.test(newMode)) return;
    // Newest first for now: the index counts from the newest commit, turned into a position at the end.
    const version = { blob: newBlob, position: this.newestFirst.length - 1 };
    const list = this.versions.get(path);
    if (list) list.push(version);
    else this.versions.set(path, [version]);
  }

  finish(): Pick<BranchLog, 'line' | 'positions' | 'versions' | 'deleted'> {
    const line = this.newestFirst.reverse();
    const last = line.length - 1;
    for (const list of this.versions.values()) {
      list.reverse();
      for (const v of list) v.position = last - v.position;
    }
    const deleted = new Set<string>();
    for (const [path, gone] of this.newest) if (gone) deleted.add(path);
    return {
      line,
      positions: new Map(line.map((sha, i) => [sha, i] as const)),
      versions: this.versions,
      deleted,
    };
  }
}

/**
 * The branch logs a process has read, by head commit: a long-lived process
 * (iden serve) keeps one and reads a branch's history once per commit it
 * acts on, however many runs it makes there. A commit's first-parent
 * history never changes, so what was read stays true.
 */
export class BranchLogs {
  private last: { root: string; head: string; log: Promise<BranchLog> } | undefined;

  read(root: string, head: string): Promise<BranchLog> {
    if (this.last?.root === root && this.last.head === head) return this.last.log;
    const log = readBranchLog(root, head);
    const entry = { root, head, log };
    this.last = entry;
    log.catch(() => {
      if (this.last === entry) this.last = undefined;
    });
    return log;
  }
}

// What GitHub hands a workflow or a person in files: the merge queue's event,
// and a pull request's reviews as GitHub lists them.
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { Review } from '../policy/classify.js';

/** What GitHub Actions says of a merge queue's group (the `merge_group` event). */
export interface MergeGroup {
  head: string;
  base: string;
  target: string;
  number: number;
}

/**
 * The merge queue's group from GitHub Actions' event file: its head (the
 * merge result the queue made), the commit it was made on, the branch it
 * merges into, and the pull request it is for (`gh-readonly-queue/<branch>/pr-<N>-<sha>`).
 */
export function readMergeGroup(env: NodeJS.ProcessEnv): MergeGroup {
  const path = env.GITHUB_EVENT_PATH;
  if (!path)
    throw new UsageError(
      '--merge-group needs GITHUB_EVENT_PATH (the merge_group event), as GitHub Actions sets it',
    );
  let event: {
    merge_group?: { head_sha?: unknown; base_sha?: unknown; head_ref?: unknown; base_ref?: unknown };
  };
  try {
    event = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read the event ${path}: ${(e as Error).message}`);
  }
  const group = event.merge_group;
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const number = /\/pr-(\d+)-[0-9a-f]+$/.exec(text(group?.head_ref))?.[1];
  if (
    !group ||
    !/^[0-9a-f]{40}$/.test(text(group.head_sha)) ||
    !/^[0-9a-f]{40}$/.test(text(group.base_sha)) ||
    !number
  )
    throw new UsageError(
      `${path} is not a merge_group event with head_sha, base_sha and a gh-readonly-queue head_ref`,
    );
  return {
    head: text(group.head_sha),
    base: text(group.base_sha),
    target: text(group.base_ref).replace(/^refs\/heads\//, ''),
    number: Number(number),
  };
}

export function readReviews(path: string): Review[] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read --reviews ${path}: ${(e as Error).message}`);
  }
  const ok =
    Array.isArray(value) &&
    value.every(
      (r) =>
        r &&
        typeof r === 'object' &&
        typeof r.state === 'string' &&
        (r.user === null || typeof r.user?.login === 'string') &&
        (r.commit_id === null || typeof r.commit_id === 'string'),
    );
  if (!ok)
    throw new UsageError(
      `--reviews ${path} must be a JSON array of reviews as GitHub lists them (user.login, state, commit_id, submitted_at)`,
    );
  return value as Review[];
}

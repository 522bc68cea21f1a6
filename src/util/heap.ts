// How far V8 lets the heap grow past what was live at the last full collection before
// the next: up to about four times by default. At a million grants (some 700 MB live) a
// plan's heap reached 2.4 GB, mostly garbage, and warm validate 2.1 GB. For a repository
// that large iden keeps it to twice what is live: more full collections, and a process that
// fits the runner it is given (7 GB on GitHub's standard runners, shared with git and the
// checkout). A smaller repository keeps V8's default, which spends less time collecting
// (at 100,000 grants the bound cost 5-15% more CPU time for no less memory). V8 reads the
// factor each time it sets the next limit, so setting it once the size is known takes effect.
import { setFlagsFromString } from 'node:v8';

/** From this many grant files the heap is kept near what is live. */
export const LARGE_REPOSITORY = 250_000;

let bounded = false;

/** Keeps the heap within twice what is live, once, for a repository of `files` grant files from LARGE_REPOSITORY on. */
export function boundHeapFor(files: number): void {
  if (bounded || files < LARGE_REPOSITORY) return;
  bounded = true;
  setFlagsFromString('--heap-growing-percent=100');
}

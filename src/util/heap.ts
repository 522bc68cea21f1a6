// How far V8 lets the heap grow past what was live at the last full collection before
// the next: up to about four times by default. At a million grants (some 700 MB live) a
// plan's heap reached 2.4 GB, mostly garbage, and warm validate 2.1 GB. For a repository
// that large iden keeps it to twice what is live: more full collections, and a process that
// fits the runner it is given (7 GB on GitHub's standard runners, shared with git and the
// checkout). A smaller repository keeps V8's default, which spends less time collecting
// (at 100,000 grants the bound cost 5-15% more CPU time for no less memory). V8 reads the
// factor each time it sets the next limit, so setting it once the size is known takes effect.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** From this many grant files the heap is kept near what is live. */
export const LARGE_REPOSITORY = 250_000;

let bounded = false;

/** Keeps the heap within twice what is live, once, for a repository of `files` grant files from LARGE_REPOSITORY on. */
export function boundHeapFor(files: number): void {
  if (bounded || files < LARGE_REPOSITORY) return;
  bounded = true;
  setFlagsFromString('--heap-growing-percent=100');
}

let collector: (() => void) | null | undefined;

/**
 * V8's full collection, as `--expose-gc` gives it: had once from a context of
 * its own (as jest's leak detector has it), the flag set back at once, so
 * nothing is added to the program's global object. Undefined where V8 will
 * not give it. For a long-lived process (iden serve) to collect when it is
 * quiet, not in the middle of work that has a deadline.
 */
export function fullCollection(): (() => void) | undefined {
  if (collector === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const gc: unknown = runInNewContext('gc');
      collector = typeof gc === 'function' ? (gc as () => void) : null;
    } catch {
      collector = null;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  return collector ?? undefined;
}

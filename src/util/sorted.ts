/** The first position in `list` (sorted by `of`) whose value is strictly after `t`: a binary search. */
export function firstAfter<T>(list: readonly T[], t: number, of: (item: T) => number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (of(list[mid]!) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Ids in localeCompare's order, the collator built once (localeCompare builds one at every call). */
export const compareIds = new Intl.Collator().compare;

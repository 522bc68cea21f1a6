import { isDeepStrictEqual } from 'node:util';
import { parseTime } from '../model/time.js';

type Raw = Record<string, unknown> | undefined;

/**
 * Whether an edit of a grant file only takes access away: it ends no later
 * (an end added or moved earlier), starts no earlier, keeps a subset of the
 * permissions, and changes nothing else but the reason; or it puts the file
 * back exactly as the protected branch has it. Such an edit is a revocation
 * (an access review's proposal, a reviewer's keep), and needs no approval.
 */
export function onlyShortens(before: Raw, after: Raw, onProtected: Raw, zone: string): boolean {
  if (!after) return false;
  if (onProtected && isDeepStrictEqual(after, onProtected)) return true;
  if (!before) return false;
  const at = (v: unknown) => {
    if (typeof v !== 'string') return undefined;
    const t = parseTime(v, zone);
    return t.ok ? t.at : undefined;
  };
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const b = before[key];
    const a = after[key];
    if (key === 'reason' || isDeepStrictEqual(a, b)) continue;
    if (key === 'end') {
      const end = at(a);
      if (end === undefined) return false;
      if (b !== undefined && (at(b) === undefined || end > at(b)!)) return false;
      continue;
    }
    if (key === 'start') {
      const start = at(a);
      if (start === undefined) return false;
      if (b !== undefined && (at(b) === undefined || start < at(b)!)) return false;
      continue;
    }
    if (key === 'permissions') {
      if (!Array.isArray(a) || !Array.isArray(b)) return false;
      if (!a.every((p) => b.includes(p))) return false;
      continue;
    }
    return false;
  }
  return true;
}

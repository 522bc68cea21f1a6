import { closest } from './diagnostics.js';

/**
 * How every `--user` and `--app` filter reads its value: a person by id or
 * email, an app by id, in any case. An unknown value is an answer of its own,
 * never an empty result: a typo in an access review must not read as "no
 * access, no history".
 */
export type Lookup = { id: string } | { unknown: string };

export interface PersonRef {
  id: string;
  email?: string | undefined;
}

/** A person by id or email (any case); `former` are ids known only from history (people who left). */
export function lookupPerson(
  value: string,
  people: readonly PersonRef[],
  former: Iterable<string> = [],
  where = 'grants/_people.yaml',
): Lookup {
  const wanted = value.trim().toLowerCase();
  for (const p of people)
    if (p.id.toLowerCase() === wanted || p.email?.toLowerCase() === wanted) return { id: p.id };
  const formerIds = [...former];
  const left = formerIds.find((id) => id.toLowerCase() === wanted);
  if (left !== undefined) return { id: left };
  const candidates = [...people.flatMap((p) => [p.id, ...(p.email ? [p.email] : [])]), ...formerIds];
  const hint = closest(wanted, candidates);
  return {
    unknown: `--user ${value}: no person of that id or email in ${where}${hint ? ` (did you mean "${hint}"?)` : ''}`,
  };
}

/** An app by id (any case), from the apps of the repository and, for the audit, of its history. */
export function lookupApp(value: string, apps: Iterable<string>, where = 'grants/'): Lookup {
  const list = [...new Set(apps)].sort();
  const wanted = value.trim().toLowerCase();
  const found = list.find((id) => id.toLowerCase() === wanted);
  if (found !== undefined) return { id: found };
  const hint = closest(wanted, list);
  return {
    unknown: `--app ${value}: no app of that id in ${where} (${hint ? `did you mean "${hint}"? ` : ''}apps: ${list.join(', ') || 'none'})`,
  };
}

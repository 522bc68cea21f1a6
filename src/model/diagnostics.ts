/** Every diagnostic code iden emits, with the one-line meaning listed in the README. */
export const codes = {
  'yaml-syntax': 'the file is not valid YAML (including tabs used for indentation)',
  'duplicate-key': 'a mapping names the same key twice',
  'too-many-aliases': 'more YAML aliases than a grant repository needs (a resource-exhaustion guard)',
  'forbidden-key': 'a key such as __proto__, constructor or prototype that could tamper with objects',
  'file-too-large': 'a grant file over 64 KiB, or another file over 16 MiB',
  'not-utf8': 'the file holds bytes that are not UTF-8',
  'symlink-outside-repo': 'a symbolic link that points outside the repository',
  'tracked-state':
    "a file under .iden/ is committed: iden's local state (locks, journals, embedded databases, caches) never comes from the repository",
  symlink: 'a symbolic link under grants/ or schemas/: what it names could change without a change there',
  'multiple-documents': 'more than one YAML document in one file',
  'not-a-mapping': 'the top level of the file is not a mapping of keys to values',
  'empty-file': 'the file holds no YAML document',
  unreadable: 'the file or folder cannot be read',
  'misplaced-file': 'a file or folder where none belongs in grants/',
  'bad-file-name': 'a grant file or app folder name that is not a valid id',
  'missing-app-file': 'an app folder without _app.yaml',
  'missing-people-file': 'grants/_people.yaml is missing',
  'missing-field': 'a required field is absent',
  'unknown-field': 'a field the schema does not define',
  'invalid-field': 'a field of the wrong type or form',
  'app-mismatch': "a grant's app differs from its folder",
  'user-mismatch': "a grant's user differs from its file name",
  'unknown-user': 'a grant names a person not in _people.yaml',
  'unknown-app': 'a name refers to an app with no folder under grants/',
  'unknown-permission': "a permission the app's _app.yaml does not declare",
  'missing-account': 'the person has no account name for an app whose connector cannot derive one',
  'unknown-license': "a license tier the app's _app.yaml does not declare",
  'license-required': 'the app declares license tiers but the grant names none',
  'license-not-offered': 'the grant names a license but the app declares no tiers',
  'grants-nothing': 'a grant with neither permissions nor a license',
  'invalid-date': 'a start or end that is not a real date or instant',
  'end-before-start': 'end is not after start',
  'invalid-timezone': 'a timezone that is not an IANA time zone',
  'duplicate-grant': 'a second grant for a user who already has one for the app',
  'seats-exceeded': 'more grants hold a license tier at some instant than it has seats',
  'negative-seats': 'a license tier with fewer than zero seats',
  'duplicate-id': 'two people, entitlements or tiers with one id',
  'duplicate-email': 'two people with one email',
  'duplicate-account':
    'two people with one account in an app (or one GitHub login), as the app compares accounts',
  'exempt-protected':
    'a policy.exempt glob that would exempt a path that is never exempt (workflows, package files, grants/)',
  'unknown-person': 'an approver or role member who is not in _people.yaml',
  'approver-without-login':
    '(warning) an approver or role member with no accounts.github: they can never approve or grant through a pull request',
  'unknown-connector': 'a connector type that is not in the registry',
  'grant-expired': '(warning) the grant has ended; delete the file or extend it',
  'name-too-long': 'a role or account name longer than the app allows (PostgreSQL: 63 bytes in UTF-8)',
  'account-is-role': "a person's account is a role the app maps an entitlement or tier to",
  'unsafe-role':
    'an entitlement or tier mapped to a role that hands over more than access (PostgreSQL: a predefined pg_* role or postgres)',
  'rule-max-duration':
    "a grant longer than its access rule's maxDuration (or its emergency maxDuration) allows, or without the end the rule requires",
  'rule-not-eligible': "a grant for someone the access rule's eligible does not name",
  'rule-emergency':
    'emergency: true on access whose rule allows no emergency access, or an emergency grant without a start',
  conflict:
    "a person would hold a whole set of _settings.yaml's conflicts at once (separation of duties) without an exception",
} as const;

export type Code = keyof typeof codes;
export type Severity = 'error' | 'warning';

/** A step into a YAML tree: a mapping key or a sequence index. */
export type YamlPath = readonly (string | number)[];

/**
 * A problem found in a file. Rules point at a node by path; the reporter resolves
 * the path to a line and column only for the files that have findings.
 */
export interface Finding {
  file: string;
  severity: Severity;
  code: Code;
  message: string;
  /** Where in the file: a node path (resolved later) or a position already known. */
  where: { path: YamlPath; part?: 'key' | 'value' } | { line: number; column: number };
}

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  severity: Severity;
  code: Code;
  message: string;
}

export function error(
  file: string,
  code: Code,
  message: string,
  path: YamlPath = [],
  part?: 'key' | 'value',
): Finding {
  return { file, severity: 'error', code, message, where: part ? { path, part } : { path } };
}

export function warning(file: string, code: Code, message: string, path: YamlPath = []): Finding {
  return { file, severity: 'warning', code, message, where: { path } };
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column || a.code.localeCompare(b.code);
}

/** The closest candidate by edit distance, for "did you mean" hints; undefined when nothing is close. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate, bestDistance);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

export function didYouMean(word: string, candidates: Iterable<string>): string {
  const hint = closest(word, candidates);
  return hint ? ` (did you mean "${hint}"?)` : '';
}

function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

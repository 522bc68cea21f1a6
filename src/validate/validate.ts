import { resolveFinding } from '../load/parse-yaml.js';
import { placerOf } from '../load/read-file.js';
import { compareDiagnostics, type Diagnostic, type Finding } from '../model/diagnostics.js';
import type { AccessRepo, FileEntry, GrantEntry } from '../model/repo.js';
import type { Instant } from '../model/time.js';
import type { FileKind } from '../schema/check.js';
import { buildContext, type RuleContext } from './context.js';
import { accessRules } from './rules/access-rules.js';
import { appDefinitions } from './rules/apps.js';
import { connectorRules } from './rules/connectors.js';
import { grantDates, settingsTimezone } from './rules/dates.js';
import { exemptions, oneAccountOnePerson } from './rules/identity.js';
import { grantMatchesPath, oneGrantPerUserAndApp } from './rules/layout.js';
import { peopleDirectory, peopleReferences } from './rules/people.js';
import { grantReferences } from './rules/references.js';
import { seatLimits } from './rules/seats.js';

export type Rule = (ctx: RuleContext) => Finding[];

export const rules: Rule[] = [
  grantMatchesPath,
  oneGrantPerUserAndApp,
  grantReferences,
  grantDates,
  settingsTimezone,
  seatLimits,
  peopleDirectory,
  peopleReferences,
  appDefinitions,
  connectorRules,
  oneAccountOnePerson,
  exemptions,
  accessRules,
];

export interface Validation {
  ok: boolean;
  diagnostics: Diagnostic[];
  /** Files with at least one error: what reconcile holds or skips. */
  filesWithErrors: Set<string>;
}

/** Runs every rule over a loaded repository and places each finding at its line. */
export function validateRepo(
  repo: AccessRepo,
  at: Instant,
  options: { blame?: ReadonlySet<string> } = {},
): Validation {
  return finish(repo, placeFindings(repo, findingsOf(repo, at, options)));
}

/**
 * validateRepo for a repository read from a commit: the files whose findings
 * must be placed by reading them again are read in batches (one `git
 * cat-file` each) first, not each by a git process of its own when placed
 * (500 ended grants were 500 processes, 15 s from a process of 400 MB).
 */
export async function validateRead(
  repo: AccessRepo,
  at: Instant,
  options: { blame?: ReadonlySet<string> } = {},
): Promise<Validation> {
  return finish(repo, await placeRead(repo, placer(repo), findingsOf(repo, at, options)));
}

/** Files read again at once to place findings: a slice of a commit's files, let go before the next. */
const READ_AT_ONCE = 10_000;

/**
 * Each finding placed by `place`, in order, the files it must read again read
 * from the tree a slice at a time first (`Tree.prefetch`), and let go after.
 */
export async function placeRead(
  repo: AccessRepo,
  place: (finding: Finding) => Diagnostic,
  findings: readonly Finding[],
): Promise<Diagnostic[]> {
  const sourceOf = sourcesToRead(repo);
  const diagnostics: Diagnostic[] = new Array(findings.length);
  const bySource = new Map<string, number[]>();
  findings.forEach((finding, i) => {
    const source = sourceOf(finding.file)?.[0];
    if (source === undefined) diagnostics[i] = place(finding);
    else {
      const list = bySource.get(source);
      if (list) list.push(i);
      else bySource.set(source, [i]);
    }
  });
  const sources = [...bySource.keys()];
  for (let at = 0; at < sources.length; at += READ_AT_ONCE) {
    const slice = sources.slice(at, at + READ_AT_ONCE);
    await repo.tree.prefetch(slice);
    try {
      for (const source of slice) for (const i of bySource.get(source)!) diagnostics[i] = place(findings[i]!);
    } finally {
      repo.tree.release?.(slice);
    }
  }
  return diagnostics;
}

function findingsOf(repo: AccessRepo, at: Instant, options: { blame?: ReadonlySet<string> }): Finding[] {
  const ctx = buildContext(repo, at, options.blame);
  return rules.flatMap((rule) => rule(ctx));
}

/** The validation of these placed findings beside the loader's diagnostics. */
function finish(repo: AccessRepo, placed: Diagnostic[]): Validation {
  // A node with a schema error keeps that one diagnostic; rules reading the same node would only repeat it.
  const schemaNodes = new Set(repo.diagnostics.map(nodeKey));
  const ruleDiagnostics = placed.filter((d) => !schemaNodes.has(nodeKey(d)));
  const diagnostics = [...repo.diagnostics, ...ruleDiagnostics].sort(compareDiagnostics);
  const filesWithErrors = new Set(diagnostics.filter((d) => d.severity === 'error').map((d) => d.file));
  return { ok: filesWithErrors.size === 0, diagnostics, filesWithErrors };
}

export function nodeKey(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}`;
}

/**
 * Resolves findings to lines. Settings and app files keep their parsed
 * documents when YAML composed one; grant files, the directory of people and
 * any file the fast readers or the parse cache gave are read again only when
 * a rule found something in them, which keeps 100,000 documents out of memory.
 */
export function placeFindings(repo: AccessRepo, findings: Finding[]): Diagnostic[] {
  const place = placer(repo);
  return findings.map(place);
}

/**
 * Where the tree holds each file a finding must be placed in by reading it
 * again, and its kind; undefined for a file placed from the document it kept,
 * or not in the repository. A grant's source is found by a binary search of
 * the grants in the loader's order; only a repository in another order has
 * them all indexed, on the first file the search misses.
 */
export function sourcesToRead(repo: AccessRepo): (file: string) => [string, FileKind] | undefined {
  const files = new Map<string, [string, FileKind] | undefined>();
  const kinds: [FileEntry<unknown> | undefined, FileKind][] = [
    [repo.settings, 'settings'],
    [repo.people, 'people'],
    ...[...repo.apps.values()].map((app): [FileEntry<unknown>, FileKind] => [app, 'app']),
  ];
  for (const [file, kind] of kinds)
    if (file) files.set(file.file, file.parsed || !file.source ? undefined : [file.source, kind]);
  let grants: Map<string, string> | undefined;
  return (file) => {
    if (files.has(file)) return files.get(file);
    // The loader keeps grants by app, then name: a search finds most without an index of 100,000 files.
    const sorted = sortedGrant(repo.grants, file);
    if (sorted) return [sorted.source, 'grant'];
    if (!grants) {
      grants = new Map();
      for (const grant of repo.grants) grants.set(grant.file, grant.source);
    }
    const source = grants.get(file);
    return source === undefined ? undefined : [source, 'grant'];
  };
}

/** placeFindings one finding at a time: each file a finding names is read once for the placer's life. */
export function placer(repo: AccessRepo): (finding: Finding) => Diagnostic {
  const placers = new Map<string, (finding: Finding) => Diagnostic>();
  // Files that kept their document are placed from it.
  for (const file of [repo.settings, repo.people, ...repo.apps.values()]) {
    const parsed = file?.parsed;
    if (parsed) placers.set(file.file, (finding) => resolveFinding(parsed, finding));
  }
  let sourceOf: ((file: string) => [string, FileKind] | undefined) | undefined;
  return (finding) => {
    let place = placers.get(finding.file);
    if (!place) {
      sourceOf ??= sourcesToRead(repo);
      const source = sourceOf(finding.file);
      place = source
        ? placerOf(finding.file, repo.tree, source[0], source[1])
        : (f: Finding) => resolveFinding(undefined, f);
      placers.set(finding.file, place);
    }
    return place(finding);
  };
}

/** The grant of a file, if `grants` is in the loader's order (by folder, then name) and holds it. */
function sortedGrant(grants: readonly GrantEntry[], file: string): GrantEntry | undefined {
  const m = /^grants\/([^/]+)\/([^/]+)\.yaml$/.exec(file);
  if (!m) return undefined;
  const [, folder = '', name = ''] = m;
  let lo = 0;
  let hi = grants.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const g = grants[mid]!;
    if (g.folder < folder || (g.folder === folder && g.name < name)) lo = mid + 1;
    else hi = mid;
  }
  const found = grants[lo];
  return found?.file === file ? found : undefined;
}

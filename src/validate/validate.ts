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
  const ctx = buildContext(repo, at, options.blame);
  const findings = rules.flatMap((rule) => rule(ctx));
  // A node with a schema error keeps that one diagnostic; rules reading the same node would only repeat it.
  const schemaNodes = new Set(repo.diagnostics.map(nodeKey));
  const ruleDiagnostics = placeFindings(repo, findings).filter((d) => !schemaNodes.has(nodeKey(d)));
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
 * placeFindings one finding at a time: each file a finding names is read
 * once for the placer's life. A grant's source is found by a binary search
 * of the grants in the loader's order; only a repository in another order
 * has them all indexed, on the first finding the search misses.
 */
export function placer(repo: AccessRepo): (finding: Finding) => Diagnostic {
  const placers = new Map<string, (finding: Finding) => Diagnostic>();
  // Files read without a document (grants, and any file the parse cache gave) are read again when a finding needs a line.
  let sources: Map<string, [string, FileKind]> | undefined;
  let grants: Map<string, string> | undefined;
  const index = () => {
    const out = new Map<string, [string, FileKind]>();
    const kinds: [FileEntry<unknown> | undefined, FileKind][] = [
      [repo.settings, 'settings'],
      [repo.people, 'people'],
      ...[...repo.apps.values()].map((app): [FileEntry<unknown>, FileKind] => [app, 'app']),
    ];
    for (const [file, kind] of kinds) {
      const parsed = file?.parsed;
      if (parsed) placers.set(file.file, (finding) => resolveFinding(parsed, finding));
      else if (file?.source) out.set(file.file, [file.source, kind]);
    }
    return out;
  };
  const sourceOf = (file: string): [string, FileKind] | undefined => {
    sources ??= index();
    const found = sources.get(file);
    if (found) return found;
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
  return (finding) => {
    sources ??= index();
    let place = placers.get(finding.file);
    if (!place) {
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

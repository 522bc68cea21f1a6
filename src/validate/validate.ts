import { resolveFinding } from '../load/parse-yaml.js';
import { placerOf } from '../load/read-file.js';
import { compareDiagnostics, type Diagnostic, type Finding } from '../model/diagnostics.js';
import type { AccessRepo, FileEntry } from '../model/repo.js';
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
 * Resolves findings to lines. Settings, people and app files keep their parsed
 * documents; grant files are read again only when a rule found something in
 * them, which keeps 100,000 documents out of memory.
 */
export function placeFindings(repo: AccessRepo, findings: Finding[]): Diagnostic[] {
  const place = placer(repo);
  return findings.map(place);
}

/**
 * placeFindings one finding at a time: each file a finding names is read
 * once for the placer's life, and the index of grant sources is made on the
 * first finding that needs it.
 */
export function placer(repo: AccessRepo): (finding: Finding) => Diagnostic {
  const placers = new Map<string, (finding: Finding) => Diagnostic>();
  let sources: Map<string, [string, FileKind]> | undefined;
  const index = () => {
    // Files read without a document (grants, and any file the parse cache gave) are read again when a finding needs a line.
    const out = new Map<string, [string, FileKind]>(repo.grants.map((g) => [g.file, [g.source, 'grant']]));
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
  return (finding) => {
    sources ??= index();
    let place = placers.get(finding.file);
    if (!place) {
      const source = sources.get(finding.file);
      place = source
        ? placerOf(finding.file, repo.tree, source[0], source[1])
        : (f: Finding) => resolveFinding(undefined, f);
      placers.set(finding.file, place);
    }
    return place(finding);
  };
}

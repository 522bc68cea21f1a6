// The words of the grant flow: what a proposal does, what the policy check
// will say of it, the summary before it is committed, and the pull request's body.
import type { Workspace } from '../flow/workspace.js';
import type { GrantFile } from '../model/repo.js';
import { humanTime } from '../model/time.js';
import { grantWindow } from '../model/window.js';
import type { FileVerdict } from '../policy/classify.js';
import { GRANT_PATH } from '../policy/classify.js';
import type { Action, Forecast, ProposalClassification } from '../policy/predict.js';
import { approvalsNeeded } from '../rules/needs.js';
import { escapeMarkdown } from './plan.js';

/** What one command proposes: the files, the commit, and words for people. */
export interface Proposal {
  action: Action;
  changes: Map<string, string | null>;
  subject: string;
  branch: string;
  /** Lines describing the change, for the summary and the pull request. */
  describe: string[];
}

/** The names a description needs: the directory, the apps, the zone. */
type Names = Pick<Workspace, 'people' | 'repo' | 'zone'>;

export const appName = (ws: Names, app: string) => `${ws.repo.apps.get(app)?.value?.name ?? app} (${app})`;

/** A person as the summary names them: name, id and email. */
export function describePerson(ws: Names, id: string): string {
  const p = ws.people.find((person) => person.id === id);
  return p ? `${p.name} (${p.id}, ${p.email})` : id;
}

export function describeGrant(ws: Names, grant: GrantFile): string[] {
  const window = grantWindow(grant, ws.zone);
  return [
    `Grant ${describePerson(ws, grant.user)} access to ${appName(ws, grant.app)}`,
    `  permissions: ${(grant.permissions ?? []).join(', ') || 'none'}`,
    ...(grant.license !== undefined ? [`  license: ${grant.license}`] : []),
    `  from: ${window?.start !== undefined ? `${humanTime(window.start, ws.zone)} (${ws.zone})` : 'right now (when applied)'}`,
    `  until: ${window?.end !== undefined ? `${humanTime(window.end, ws.zone)} (${ws.zone})` : 'no end'}`,
    ...(grant.reason ? [`  reason: ${grant.reason}`] : []),
  ];
}

/** One line per file: what check-pr will decide, and whether a rule marks the access privileged. */
export function forecastLines(forecast: Forecast): string[] {
  return forecast.verdicts.map(
    (v) =>
      `${v.file}: ${verdictLine(v)}${v.privileged ? ' (privileged access: listed apart in iden access, the report and the audit)' : ''}`,
  );
}

/** What check-pr will say of the file, without the commit it does not know yet. */
function verdictLine(v: FileVerdict): string {
  if (v.ok) return v.reason;
  const label: Record<string, string> = {
    'access-request': 'access request',
    change: 'a change to existing access',
    'revocation-request': 'revocation request',
    policy: 'a policy change',
  };
  const what = label[v.classification] ?? v.classification;
  // Under access rules: how many approvals, under which rule, from whom.
  const needs = approvalsNeeded(v.rules);
  if (needs) return `${what}: ${needs}`;
  return v.approvers.length > 0
    ? `${what}: needs an approval from ${orList([...v.approvers].sort())}`
    : `${what}: ${v.reason.replace(/^[^:]*: /, '')}`;
}

/** The summary shown before anything is committed. */
export function proposalSummary(
  ws: Pick<Workspace, 'tree' | 'head'>,
  proposal: Proposal,
  forecast: Forecast,
  author: string,
  branch: string,
  base: string | undefined,
  pr: boolean,
): string {
  const lines = [...proposal.describe, ''];
  for (const [path, content] of proposal.changes) {
    if (content === null) lines.push(`delete ${path}`);
    else if (GRANT_PATH.test(path)) {
      lines.push(`${ws.tree.kind(path) ? 'edit' : 'write'} ${path}:`);
      lines.push(
        ...content
          .trimEnd()
          .split('\n')
          .map((l) => `    ${l}`),
      );
    } else lines.push(`edit ${path}`);
  }
  lines.push(
    '',
    author
      ? `As ${author}, the policy check will say:`
      : 'Not knowing your GitHub login (pass --as LOGIN, or set GITHUB_TOKEN), the policy check will say:',
  );
  lines.push(...forecastLines(forecast).map((l) => `  ${l}`));
  lines.push(
    '',
    `Branch ${branch} from ${ws.head.slice(0, 12)}${pr ? `, then a pull request into ${base ?? '(no branch)'}` : ' (no pull request: --no-pr)'}.`,
  );
  return lines.join('\n');
}

/** The pull request's body. Names, emails and reasons are what people typed: escaped, they render as themselves. */
export function pullBody(zone: string, proposal: Proposal, forecast: Forecast): string {
  const classification: Record<ProposalClassification, string> = {
    'direct-grant': 'direct grant',
    'access-request': 'access request',
    change: 'change to existing access',
    revocation: 'revocation',
    'revocation-request': 'revocation request',
  };
  return [
    ...proposal.describe.map((l, i) =>
      i === 0 ? `**${escapeMarkdown(l)}**` : `- ${escapeMarkdown(l.replace(/^ {2}/, ''))}`,
    ),
    '',
    `**Policy** (${classification[forecast.classification]}${forecast.policy ? ', with a policy change' : ''}): what \`iden check-pr\` will decide, as iden sees it now:`,
    ...forecastLines(forecast).map((l) => `- ${escapeMarkdown(l)}`),
    '',
    `Files: ${[...proposal.changes.keys()].map((f) => `\`${f}\``).join(', ')}. Dates are in ${zone}.`,
    '',
    `_Opened with \`iden ${proposal.action}\`._`,
  ].join('\n');
}

/**
 * Text people typed, as one line of a commit message or title: no line
 * breaks or control characters, so a reason cannot add a trailer
 * (Co-authored-by:), a subject line or a fake "Merge pull request" line.
 */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trimEnd();
}

function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import { readBlobs } from '../git/blobs.js';
import { readRecords } from '../git/notes.js';
import { commitDate, fetchNotes, lastChange } from '../git/review.js';
import { isoUtc } from '../model/time.js';
import { idenVersion } from '../util/package-root.js';
import { appliedRevocations } from './applied.js';
import { campaignPath } from './campaign.js';
import { closesOf } from './history.js';
import { nameOf, type ReviewWorkspace, readCampaign } from './workspace.js';

export interface ReportRow {
  campaign: string;
  user: string;
  name: string;
  app: string;
  access: string;
  reviewer: string;
  decision: 'kept' | 'ended by review' | 'ended by default' | 'dropped out' | 'open';
  reason: string;
  decidedAt: string;
  commit: string;
  pr: string;
  mergedAt: string;
  appliedAt: string;
}

export interface Manifest {
  iden: string;
  campaign: string;
  /** The protected branch's commit the report was made at. */
  at: string;
  /** The last commit that changed the campaign file. */
  campaignCommit: string;
  asOf: string;
  rows: number;
  /** SHA-256 of the rows as canonical JSON. */
  sha256: string;
}

export interface Report {
  manifest: Manifest;
  rows: ReportRow[];
}

const COLUMNS: (keyof ReportRow)[] = [
  'campaign',
  'user',
  'name',
  'app',
  'access',
  'reviewer',
  'decision',
  'reason',
  'decidedAt',
  'commit',
  'pr',
  'mergedAt',
  'appliedAt',
];

const WORDS = {
  kept: 'kept',
  'ended-by-review': 'ended by review',
  'ended-by-default': 'ended by default',
  dropped: 'dropped out',
} as const;

/**
 * The campaign's evidence, from git alone: the campaign file, the close
 * commits and merges on the protected branch, and the apply records pushed
 * to the remote. Nothing is read from the clock or from GitHub, so the same
 * commit (and the same pushed records) gives the same bytes anywhere.
 */
export async function buildReport(ws: ReviewWorkspace, name: string, asOfText?: number): Promise<Report> {
  const campaign = await readCampaign(ws, name);
  await fetchNotes(ws.root, ws.remote);
  const asOf =
    asOfText !== undefined ? isoUtc(asOfText) : isoUtc(Date.parse(await commitDate(ws.root, ws.tip)));
  // With --at, closes committed after it are not yet decided; without, everything the commit holds counts.
  const closes = (await closesOf(ws.root, campaign, ws.tip)).filter(
    (c) => asOfText === undefined || Date.parse(c.close.date) <= asOfText,
  );
  const campaignCommit = (await lastChange(ws.root, ws.tip, campaignPath(name))) ?? '';
  const texts = await readBlobs(
    ws.root,
    campaign.reviewers.flatMap((r) => r.items.map((i) => i.blob)),
  );
  const applied = appliedRevocations(await readRecords(ws.root));
  const rows: ReportRow[] = [];
  for (const reviewer of campaign.reviewers) {
    const close = closes.find((c) => c.person === reviewer.person);
    for (const item of reviewer.items) {
      const d = close?.decisions.find((x) => x.file === item.file);
      const grant = (parse(texts.get(item.blob) ?? '') ?? {}) as { permissions?: string[]; license?: string };
      const access = [
        ...(grant.permissions ?? []),
        ...(grant.license ? [`license ${grant.license}`] : []),
      ].join(' ');
      const ended = d?.decision === 'ended-by-review' || d?.decision === 'ended-by-default';
      const mergedAt = close?.merge ? isoUtc(Date.parse(close.merge.date)) : '';
      rows.push({
        campaign: name,
        user: item.user,
        name: nameOf(ws.repo, item.user),
        app: item.app,
        access,
        reviewer: reviewer.person,
        decision: d ? WORDS[d.decision as keyof typeof WORDS] : 'open',
        reason: d?.decision === 'kept' ? (d.reason ?? '') : (d?.note ?? ''),
        decidedAt: d?.at ? isoUtc(Date.parse(d.at)) : '',
        commit: close?.close.sha ?? '',
        pr: close?.pr ? `#${close.pr}` : reviewer.pr !== undefined ? `#${reviewer.pr}` : '',
        mergedAt,
        appliedAt: ended
          ? (applied.get(`${item.app}\u0000${item.user}`)?.find((at) => at >= (mergedAt || asOf)) ?? '')
          : '',
      });
    }
  }
  rows.sort((a, b) => (a.app + a.user < b.app + b.user ? -1 : a.app + a.user > b.app + b.user ? 1 : 0));
  const sha256 = createHash('sha256').update(rowsJson(rows)).digest('hex');
  return {
    manifest: {
      iden: idenVersion(),
      campaign: name,
      at: ws.tip,
      campaignCommit,
      asOf,
      rows: rows.length,
      sha256,
    },
    rows,
  };
}

function rowsJson(rows: ReportRow[]): string {
  return `[${rows.map((r) => `{${COLUMNS.map((k) => `${JSON.stringify(k)}:${JSON.stringify(r[k])}`).join(',')}}`).join(',')}]`;
}

export function formatReport(report: Report, format: 'csv' | 'json' | 'md'): string {
  const m = report.manifest;
  // Objects are built with their keys in a fixed order: the same report is the same bytes.
  if (format === 'json') return `${JSON.stringify({ manifest: m, rows: report.rows }, null, 2)}\n`;
  const manifestLines = [
    `iden ${m.iden}`,
    `campaign ${m.campaign}, file at ${m.campaignCommit}`,
    `protected branch at ${m.at}`,
    `as of ${m.asOf}`,
    `${m.rows} rows, SHA-256 ${m.sha256}`,
  ];
  if (format === 'csv') {
    const cell = (v: string) =>
      /[",\n\r]/.test(v) || /^[=+\-@\t]/.test(v)
        ? `"${(/^[=+\-@\t]/.test(v) ? `'${v}` : v).replace(/"/g, '""')}"`
        : v;
    return [
      ...manifestLines.map((l) => `# ${l}`),
      COLUMNS.join(','),
      ...report.rows.map((r) => COLUMNS.map((k) => cell(r[k])).join(',')),
      '',
    ].join('\r\n');
  }
  const esc = (v: string) => v.replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`).replace(/\s+/g, ' ');
  return [
    `# Access review ${esc(m.campaign)}`,
    '',
    ...manifestLines.map((l) => `- ${l}`),
    '',
    `| ${COLUMNS.join(' | ')} |`,
    `|${COLUMNS.map(() => '---').join('|')}|`,
    ...report.rows.map((r) => `| ${COLUMNS.map((k) => esc(r[k])).join(' | ')} |`),
    '',
  ].join('\n');
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { stringify } from 'yaml';
import { OperatorError } from '../errors.js';
import { locate, OTHER_FILE_LIMIT, parseYaml } from '../load/parse-yaml.js';
import type { AccessRepo } from '../model/repo.js';
import { AJV_OPTIONS } from '../schema/options.js';
import { packageRoot } from '../util/package-root.js';

/** Who reviews an item: the app's approvers, its owners, or the grantee's manager. */
export type ReviewerKind = 'approvers' | 'owners' | 'manager';

/** One grant under review: the file, and what it was when the campaign started. */
export interface CampaignItem {
  file: string;
  user: string;
  app: string;
  /** The grant file's blob at the campaign's base commit. */
  blob: string;
  /** Its end before the campaign, when it had one. */
  end?: string;
}

export interface CampaignReviewer {
  person: string;
  login?: string;
  branch: string;
  pr?: number;
  items: CampaignItem[];
}

/** A campaign as reviews/<name>.yaml holds it (schemas/review.schema.json). */
export interface Campaign {
  name: string;
  started: string;
  startedBy: string;
  base: string;
  due: string;
  grace?: string;
  end: string;
  reminders?: string[];
  scope: { apps?: string[]; privileged?: boolean; notUsedSince?: string };
  reviewer: ReviewerKind;
  reviewers: CampaignReviewer[];
}

export const CAMPAIGN_NAME = /^[a-z0-9][a-z0-9._-]*$/;

export function campaignPath(name: string): string {
  return `reviews/${name}.yaml`;
}

let compiled: ReturnType<Ajv2020['compile']> | undefined;

function validator() {
  if (compiled) return compiled;
  const ajv = new Ajv2020(AJV_OPTIONS);
  const schema = JSON.parse(readFileSync(join(packageRoot(), 'schemas', 'review.schema.json'), 'utf8'));
  compiled = ajv.compile(schema);
  return compiled;
}

/**
 * Reads a campaign file, checked against its schema; a problem is an
 * OperatorError naming file:line:column, what is wrong and what is expected.
 */
export function parseCampaign(file: string, text: string): Campaign {
  const parsed = parseYaml(file, Buffer.from(text), OTHER_FILE_LIMIT);
  const first = parsed.diagnostics[0];
  if (first) throw new OperatorError(`${file}:${first.line}:${first.column} ${first.code}: ${first.message}`);
  const validate = validator();
  if (!validate(parsed.value)) {
    const e = validate.errors?.[0];
    const path = (e?.instancePath ?? '')
      .split('/')
      .filter(Boolean)
      .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
    const at = locate(parsed, path);
    const what =
      e?.keyword === 'additionalProperties'
        ? `unknown field ${String(e.params.additionalProperty)}`
        : e?.message;
    throw new OperatorError(
      `${file}:${at.line}:${at.column} campaign-schema: ${path.join('.') || 'the file'} ${what ?? 'is not valid'} (see schemas/review.schema.json)`,
    );
  }
  const campaign = parsed.value as unknown as Campaign;
  const expected = file.replace(/^reviews\//, '').replace(/\.yaml$/, '');
  if (campaign.name !== expected) {
    const at = locate(parsed, ['name']);
    throw new OperatorError(
      `${file}:${at.line}:${at.column} campaign-name: name is ${campaign.name}; it must equal the file name, ${expected}`,
    );
  }
  return campaign;
}

/** The file's text: fields in a fixed order, so the same campaign is the same bytes. */
export function formatCampaign(campaign: Campaign): string {
  const ordered = {
    name: campaign.name,
    started: campaign.started,
    startedBy: campaign.startedBy,
    base: campaign.base,
    due: campaign.due,
    ...(campaign.grace !== undefined ? { grace: campaign.grace } : {}),
    end: campaign.end,
    ...(campaign.reminders ? { reminders: campaign.reminders } : {}),
    scope: campaign.scope,
    reviewer: campaign.reviewer,
    reviewers: campaign.reviewers.map((r) => ({
      person: r.person,
      ...(r.login !== undefined ? { login: r.login } : {}),
      branch: r.branch,
      ...(r.pr !== undefined ? { pr: r.pr } : {}),
      items: r.items.map((i) => ({
        file: i.file,
        user: i.user,
        app: i.app,
        blob: i.blob,
        ...(i.end !== undefined ? { end: i.end } : {}),
      })),
    })),
  };
  return `# An access-review campaign, written by iden review start (docs/reviews.md).\n${stringify(ordered, { lineWidth: 0 })}`;
}

/** Every item of the campaign with its reviewer. */
export function campaignItems(campaign: Campaign): { reviewer: CampaignReviewer; item: CampaignItem }[] {
  return campaign.reviewers.flatMap((reviewer) => reviewer.items.map((item) => ({ reviewer, item })));
}

/** The campaign's reminder lead times: its own, else the settings' reviews.remind, else notify.before. */
export function leadTimes(campaign: Campaign, repo: AccessRepo): string[] {
  const settings = repo.settings?.value;
  return campaign.reminders ?? settings?.reviews?.remind ?? settings?.notify?.before ?? [];
}

import { onlyShortens } from '../policy/shortens.js';
import { yaml } from '../util/yaml.js';
import type { CampaignItem } from './campaign.js';
import { hasProposal } from './propose.js';

export type Decision = 'kept' | 'ended-by-review' | 'ended-by-default' | 'dropped' | 'not-answered';

export interface ItemDecision {
  file: string;
  user: string;
  app: string;
  decision: Decision;
  /** Who decided (a person id), when someone did. */
  by?: string;
  reason?: string;
  /** When (ISO 8601), when known. */
  at?: string;
  /** Why an item dropped out, or why an edit was not taken. */
  note?: string;
}

/** A keep recorded on a campaign branch: the trailers of `iden review keep`'s commit. */
export interface Keep {
  file: string;
  by: string;
  reason: string;
  at: string;
  commit: string;
}

export interface DecideInput {
  campaign: string;
  reviewer: string;
  items: readonly CampaignItem[];
  /** Each grant file's text at the campaign's base. */
  baseText: ReadonlyMap<string, string>;
  /** Each grant file's blob on the protected branch now (absent: deleted). */
  tipBlob: ReadonlyMap<string, string>;
  /** Each grant file's text on the reviewer's branch. */
  branchText: ReadonlyMap<string, string>;
  keeps: readonly Keep[];
  /** Whether the reviewer approved the branch's head, and when. */
  approved: { at: string } | undefined;
  /** At close: what nobody answered ends by default. Before: it is not answered yet. */
  closing: boolean;
  /** The time zone bare dates are read in. */
  zone: string;
  /** When the branch's head was committed: when an edit without a keep was made, at the latest. */
  headAt: string;
}

/**
 * What became of each item, from git alone: a grant changed on the
 * protected branch since the campaign started drops out; one the branch
 * puts back as it was is kept; one still carrying the proposal ends, by
 * review when the reviewer approved, else by default (or is not answered
 * yet). An edit that would give more than the grant had is not taken: the
 * proposed end stands, and extending it is a pull request of its own.
 */
export function decide(input: DecideInput): ItemDecision[] {
  return input.items.map((item): ItemDecision => {
    const common = { file: item.file, user: item.user, app: item.app };
    if (input.tipBlob.get(item.file) !== item.blob)
      return {
        ...common,
        decision: 'dropped',
        note: input.tipBlob.has(item.file)
          ? 'changed on the protected branch during the campaign'
          : 'removed on the protected branch during the campaign',
      };
    const base = input.baseText.get(item.file);
    const text = input.branchText.get(item.file);
    const ending = (note?: string): ItemDecision =>
      input.approved
        ? {
            ...common,
            decision: 'ended-by-review',
            by: input.reviewer,
            at: input.approved.at,
            ...(note ? { note } : {}),
          }
        : input.closing
          ? { ...common, decision: 'ended-by-default', ...(note ? { note } : {}) }
          : { ...common, decision: 'not-answered', ...(note ? { note } : {}) };
    if (text === undefined || hasProposal(text, input.campaign)) return ending();
    if (text === base) {
      const keep = [...input.keeps].reverse().find((k) => k.file === item.file);
      return keep
        ? { ...common, decision: 'kept', by: keep.by, reason: keep.reason, at: keep.at }
        : { ...common, decision: 'kept', by: input.reviewer, reason: '', at: input.headAt };
    }
    const parse = (t: string | undefined) => {
      try {
        return t === undefined
          ? undefined
          : (JSON.parse(JSON.stringify(yaml().parse(t))) as Record<string, unknown>);
      } catch {
        return undefined;
      }
    };
    if (onlyShortens(parse(base), parse(text), undefined, input.zone))
      return {
        ...common,
        decision: 'ended-by-review',
        by: input.reviewer,
        at: input.headAt,
        note: 'ends sooner than proposed',
      };
    return ending('edited to give more than the grant had: not taken, the proposed end stands');
  });
}

const TRAILER = /^Iden-([A-Za-z-]+): (.*)$/gm;

/** The Iden-* trailers of a commit message, each key with its values in order. */
export function trailers(message: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of message.matchAll(TRAILER)) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!.trim()]);
  return out;
}

/** One decision as a close commit's trailer: `kept <file> | by | at | reason`. */
export function decisionTrailer(d: ItemDecision): string {
  const one = (t: string | undefined) => (t ?? '').replace(/[\r\n|]+/g, ' ').trim();
  return `Iden-Decision: ${d.decision} ${d.file} | ${one(d.by)} | ${one(d.at)} | ${one(d.reason ?? d.note)}`;
}

export function parseDecision(value: string): Omit<ItemDecision, 'user' | 'app'> | undefined {
  // git trims a message's trailing spaces: the last field may have lost its separator's space.
  const m = /^(kept|ended-by-review|ended-by-default|dropped) (\S+) \|(.*)$/.exec(value.trim());
  if (!m) return undefined;
  const [by = '', at = '', ...rest] = m[3]!.split('|').map((p) => p.trim());
  const text = rest.join('|').trim();
  const decision = m[1] as Decision;
  return {
    decision,
    file: m[2]!,
    ...(by ? { by } : {}),
    ...(at ? { at } : {}),
    ...(decision === 'kept' ? { reason: text } : text ? { note: text } : {}),
  };
}

import { OperatorError } from '../errors.js';
import { fetchBranches } from '../git/review.js';
import { commentBodies, commentOn, pullReviews, pullState } from '../github/pulls.js';
import { parseTime } from '../model/time.js';
import { leadTimes } from './campaign.js';
import { parseSpan } from './dates.js';
import { approvalOf, gather } from './gather.js';
import { nameOf, type ReviewWorkspace, readCampaign } from './workspace.js';

export interface Reminder {
  person: string;
  pr: number;
  lead: string;
  notAnswered: number;
  webhook: 'sent' | 'not-configured' | string;
}

/**
 * Reminds each reviewer with items not answered, at the most urgent lead
 * time reached before the due date: one comment on their pull request (its
 * marker makes a second run send nothing, so no local state is needed) and
 * the same text to the settings' notify webhook.
 */
export async function remindCampaign(
  ws: ReviewWorkspace,
  name: string,
  now: number,
  env: NodeJS.ProcessEnv,
): Promise<{ reminders: Reminder[]; calls: number }> {
  const campaign = await readCampaign(ws, name);
  if (!ws.github)
    throw new OperatorError('reminders are pull-request comments: set GITHUB_TOKEN (and GITHUB_REPOSITORY)');
  const settings = ws.repo.settings?.value;
  const leads = leadTimes(campaign, ws.repo);
  const due = parseTime(campaign.due, ws.zone);
  if (!due.ok || now >= due.at) return { reminders: [], calls: 0 };
  const reached = leads
    .map((text) => ({ text, ms: parseSpan(text) }))
    .filter((l): l is { text: string; ms: number } => l.ms !== undefined && now >= due.at - l.ms)
    .sort((a, b) => a.ms - b.ms)[0];
  if (!reached) return { reminders: [], calls: 0 };
  const url = settings?.notify?.webhookEnv ? env[settings.notify.webhookEnv] : undefined;
  const heads = await fetchBranches(
    ws.root,
    campaign.reviewers.map((r) => r.branch),
    ws.remote,
  );
  let calls = 0;
  const reminders: Reminder[] = [];
  for (const reviewer of campaign.reviewers) {
    if (reviewer.pr === undefined) continue;
    const head = heads.get(reviewer.branch);
    if (!head) continue;
    // The marker first: a reviewer reminded at this lead already costs one request, however often this runs.
    const marker = `<!-- iden-review-remind ${name} ${reached.text} -->`;
    const bodies = await commentBodies(ws.github, reviewer.pr);
    calls++;
    if (bodies.some((b) => b.includes(marker))) continue;
    const state = await pullState(ws.github, reviewer.pr);
    calls++;
    if (state.merged) continue;
    const approved = approvalOf(await pullReviews(ws.github, reviewer.pr), reviewer.login, head);
    calls++;
    const got = await gather(ws.root, campaign, reviewer, head, ws.tip, approved, false, ws.zone);
    const open = got.decisions.filter((d) => d.decision === 'not-answered').length;
    if (open === 0) continue;
    const who = reviewer.login ? `@${reviewer.login}` : nameOf(ws.repo, reviewer.person);
    const text = `${who}: access review ${name} is due ${campaign.due}; ${open} grant${open === 1 ? '' : 's'} not answered here end ${campaign.end} unless kept (remove the proposed end, or iden review keep ${name} --user <person> --app <app> --reason "…"), then approve.`;
    await commentOn(ws.github, reviewer.pr, `${marker}\n${text}`);
    calls++;
    let webhook: Reminder['webhook'] = 'not-configured';
    if (url) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: `${text} (#${reviewer.pr})` }),
          signal: AbortSignal.timeout(30_000),
        });
        webhook = res.ok ? 'sent' : `the webhook answered ${res.status}`;
      } catch (e) {
        webhook = `the webhook could not be reached: ${(e as Error).message}`;
      }
    }
    reminders.push({
      person: reviewer.person,
      pr: reviewer.pr,
      lead: reached.text,
      notAnswered: open,
      webhook,
    });
  }
  return { reminders, calls };
}

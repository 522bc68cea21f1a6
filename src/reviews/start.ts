import { connectors, type Registry } from '../connectors/catalog.js';
import { OperatorError, UsageError } from '../errors.js';
import { readBlobs } from '../git/blobs.js';
import { readRecords } from '../git/notes.js';
import { additions, blobsAt, commitOnto, fetchNotes, pushCommits } from '../git/review.js';
import { openPull, requestReviewers } from '../github/client.js';
import { type Clock, systemClock } from '../model/clock.js';
import { isoUtc } from '../model/time.js';
import { lastGrantApplied } from './applied.js';
import {
  CAMPAIGN_NAME,
  type Campaign,
  type CampaignReviewer,
  campaignPath,
  formatCampaign,
  type ReviewerKind,
} from './campaign.js';
import { dueDate, endAfter, parseSpan } from './dates.js';
import { proposeEnd } from './propose.js';
import { type ScopedItem, selectItems } from './scope.js';
import { type AppUsage, readUsage } from './usage.js';
import { loginOf, nameOf, type ReviewWorkspace } from './workspace.js';

export interface StartOptions {
  name?: string;
  apps: string[];
  privileged: boolean;
  notUsedSince?: string;
  reviewer: ReviewerKind;
  due: string;
  grace?: string;
  reminders?: string[];
  now: number;
  /** For --not-used-since: the environment holding the apps' credentials, the clock and the connectors it asks. */
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  registry?: Registry;
}

export interface StartResult {
  campaign: Campaign;
  /** The commit of the campaign file on the protected branch. */
  commit: string;
  notes: string[];
  /** GitHub requests made. */
  calls: number;
}

/** Who may start a campaign: a Super Admin, or a member of a role `reviews.roles` in the settings names. */
export function mayStart(ws: ReviewWorkspace): boolean {
  const raw = ws.repo.settings?.raw ?? {};
  const roles = (raw.roles ?? {}) as Record<string, unknown>;
  const named = ((raw.reviews as { roles?: unknown } | undefined)?.roles ?? []) as unknown[];
  const members = (role: unknown) =>
    Array.isArray(roles[String(role)]) ? (roles[String(role)] as unknown[]) : [];
  return ws.me !== undefined && ['super-admin', ...named].some((role) => members(role).includes(ws.me));
}

/**
 * Opens a campaign: one branch and pull request per reviewer proposing the
 * end of every grant in scope, then the campaign file committed on the
 * protected branch with the pull requests' numbers. Nothing is pushed
 * unless every branch could be made.
 */
export async function startCampaign(ws: ReviewWorkspace, options: StartOptions): Promise<StartResult> {
  if (!ws.me)
    throw new OperatorError(
      `git config user.email (${ws.email ?? 'unset'}) names no person in grants/_people.yaml: a campaign is started by a Super Admin, who must be known`,
    );
  if (!mayStart(ws))
    throw new OperatorError(
      `${ws.me} may not start a campaign: it is a policy change, made by a Super Admin or a member of a role _settings.yaml's reviews.roles names`,
    );
  const due = dueDate(options.due, options.now, ws.zone);
  if (typeof due === 'string') throw new UsageError(due);
  const grace = options.grace === undefined ? 0 : parseSpan(options.grace);
  if (grace === undefined) throw new UsageError(`--grace ${options.grace}: not a duration (7d, P7D)`);
  const notUsed = options.notUsedSince === undefined ? undefined : parseSpan(options.notUsedSince);
  if (options.notUsedSince !== undefined && notUsed === undefined)
    throw new UsageError(`--not-used-since ${options.notUsedSince}: not a duration (90d, P90D)`);
  for (const r of options.reminders ?? [])
    if (parseSpan(r) === undefined) throw new UsageError(`--remind ${r}: not a duration (7d, P1D)`);
  const end = endAfter(due, grace, ws.zone);
  const name = options.name ?? `review-${due.text.slice(0, 10)}`;
  if (!CAMPAIGN_NAME.test(name))
    throw new UsageError(
      `--name ${name}: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  const path = campaignPath(name);
  if ((await blobsAt(ws.root, ws.tip, [path])).has(path))
    throw new OperatorError(`${path} exists on ${ws.branch} already: pick another --name`);

  const notes: string[] = [];
  let usage: Map<string, AppUsage> | undefined;
  if (notUsed !== undefined) {
    const inScope =
      options.apps.length > 0 ? options.apps.filter((a) => ws.repo.apps.has(a)) : [...ws.repo.apps.keys()];
    usage = await readUsage(ws.repo, inScope.sort(), {
      env: options.env ?? {},
      clock: options.clock ?? systemClock,
      registry: options.registry ?? connectors,
    });
    for (const u of usage.values())
      notes.push(
        u.source
          ? `${u.app}: last use from ${u.source}`
          : `${u.app}: usage not known (${u.why}): its grants stay in the campaign`,
      );
  }
  const { items, problems, usedRecently } = selectItems(ws.repo, ws.zone, options.now, end.at, {
    apps: options.apps,
    privileged: options.privileged,
    ...(notUsed !== undefined ? { notUsedSince: notUsed } : {}),
    ...(usage ? { usage: (app: string, user: string) => usage.get(app)!.use(user) } : {}),
    reviewer: options.reviewer,
  });
  if (problems.length > 0) throw new UsageError(`${problems.join('\n')}\nnothing was changed`);
  if (usedRecently > 0)
    notes.push(
      `${usedRecently} grant${usedRecently === 1 ? '' : 's'} used within ${options.notUsedSince} left out of the campaign`,
    );
  if (items.length === 0)
    throw new OperatorError("no grant in scope outlasts the campaign's end: nothing to review");
  const byReviewer = new Map<string, ScopedItem[]>();
  for (const item of items) byReviewer.set(item.reviewer, [...(byReviewer.get(item.reviewer) ?? []), item]);
  const blobs = await blobsAt(
    ws.root,
    ws.tip,
    items.map((i) => i.file),
  );
  const texts = await readBlobs(ws.root, blobs.values());
  const added = await additions(ws.root, ws.tip, 'grants/');
  // The records the remote has, as the report reads them: when each item's access was last applied.
  await fetchNotes(ws.root, ws.remote);
  const lastApplied = lastGrantApplied(await readRecords(ws.root));

  const reviewers: CampaignReviewer[] = [];
  const pushes: { commit: string; branch: string; lease: string }[] = [];
  for (const [person, mine] of [...byReviewer].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const branch = `review/${name}/${person}`;
    const changes = new Map(
      mine.map((i) => [i.file, proposeEnd(texts.get(blobs.get(i.file)!) ?? '', end.text, name)]),
    );
    const commit = await commitOnto(ws.root, {
      parents: [ws.tip],
      date: isoUtc(options.now),
      changes,
      message: `Review ${name}: ${nameOf(ws.repo, person)} reviews ${mine.length} grant${mine.length === 1 ? '' : 's'}\n\nEvery grant here ends ${end.text} unless kept.\n\nIden-Review: ${name}\nIden-Reviewer: ${person}\n`,
    });
    pushes.push({ commit, branch, lease: '' });
    const login = loginOf(ws.repo, person);
    reviewers.push({
      person,
      ...(login ? { login } : {}),
      branch,
      items: mine.map((i) => ({
        file: i.file,
        user: i.user,
        app: i.app,
        blob: blobs.get(i.file)!,
        ...(i.end !== undefined ? { end: i.end } : {}),
      })),
    });
  }
  const pushed = await pushCommits(ws.root, ws.remote, pushes);
  if (pushed)
    throw new OperatorError(
      `could not push the campaign's branches to ${ws.remote}: ${pushed}; nothing was opened`,
    );

  let calls = 0;
  if (!ws.github)
    notes.push(
      'no GITHUB_TOKEN or GitHub repository: the branches are pushed; open their pull requests by hand',
    );
  else {
    for (const reviewer of reviewers) {
      const mine = byReviewer.get(reviewer.person)!;
      const pull = await openPull(ws.github, {
        head: reviewer.branch,
        base: ws.branch,
        title: `Access review ${name}: ${nameOf(ws.repo, reviewer.person)}, ${mine.length} grant${mine.length === 1 ? '' : 's'} (due ${due.text})`,
        body: pullBody(
          ws,
          { name, due: due.text, end: end.text, person: reviewer.person },
          mine,
          added,
          lastApplied,
        ),
      });
      calls++;
      reviewer.pr = pull.number;
      if (reviewer.login) {
        const refused = await requestReviewers(ws.github, pull.number, [reviewer.login]);
        calls++;
        if (refused)
          notes.push(`could not request a review from ${reviewer.login} on #${pull.number}: ${refused}`);
      } else
        notes.push(`${reviewer.person} has no accounts.github: ask them to review #${pull.number} yourself`);
    }
  }

  const campaign: Campaign = {
    name,
    started: isoUtc(options.now),
    startedBy: ws.me,
    base: ws.tip,
    due: due.text,
    ...(options.grace !== undefined ? { grace: options.grace } : {}),
    end: end.text,
    ...(options.reminders && options.reminders.length > 0 ? { reminders: options.reminders } : {}),
    scope: {
      ...(options.apps.length > 0 ? { apps: [...options.apps].sort() } : {}),
      ...(options.privileged ? { privileged: true } : {}),
      ...(options.notUsedSince !== undefined ? { notUsedSince: options.notUsedSince } : {}),
    },
    reviewer: options.reviewer,
    reviewers,
  };
  const commit = await commitOnto(ws.root, {
    parents: [ws.tip],
    date: isoUtc(options.now),
    changes: new Map([[path, formatCampaign(campaign)]]),
    message: `Start access review ${name}: ${items.length} grant${items.length === 1 ? '' : 's'}, ${reviewers.length} reviewer${reviewers.length === 1 ? '' : 's'}, due ${due.text}\n\nIden-Review: ${name}\nIden-Review-Start: ${ws.me}\n`,
  });
  const main = await pushCommits(ws.root, ws.remote, [{ commit, branch: ws.branch, lease: ws.tip }]);
  if (main)
    throw new OperatorError(
      `the pull requests are open, but ${path} could not be pushed to ${ws.branch}: ${main}; commit ${commit.slice(0, 12)} holds it: push it (git push ${ws.remote} ${commit}:${ws.branch})`,
    );
  return { campaign, commit, notes, calls };
}

const BODY_LIMIT = 60_000;

function pullBody(
  ws: ReviewWorkspace,
  { name, due, end, person }: { name: string; due: string; end: string; person: string },
  items: ScopedItem[],
  added: Map<string, { commit: string; date: string; author: string }>,
  lastApplied: Map<string, string>,
): string {
  const esc = (t: string) => t.replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`).replace(/\s+/g, ' ');
  const head = [
    `<!-- iden-review ${name} ${person} -->`,
    `**Access review ${esc(name)}**, reviewed by ${esc(nameOf(ws.repo, person))}. Due **${due}**.`,
    '',
    `Every grant below ends **${end}** when this pull request is merged, unless you keep it: remove its proposed \`end\` line (or run \`iden review keep ${name} --user <person> --app <app> --reason "…"\`), then approve. What you do not keep ends by default; the pull request is merged as it stands at the due date.`,
    '',
    '| person | app | access | since | granted by | why | last applied | privileged | used |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const rows: string[] = [];
  let size = head.join('\n').length;
  for (const [i, item] of items.entries()) {
    const by = added.get(item.file);
    const access =
      [...item.permissions, ...(item.license ? [`license ${item.license}`] : [])].join(', ') || '(none)';
    const row = `| ${esc(nameOf(ws.repo, item.user))} (${item.user}) | ${item.app} | ${esc(access)} | ${item.start ?? by?.date.slice(0, 10) ?? '?'} | ${esc(by?.author ?? '?')} | ${esc(item.reason ?? '')} | ${lastApplied.get(`${item.app}\u0000${item.user}`)?.replace(/\.000Z$/, 'Z') ?? 'not recorded'} | ${item.privileged ? 'yes' : 'no'} | ${item.used} |`;
    if (size + row.length > BODY_LIMIT) {
      rows.push(`| … and ${items.length - i} more: see the files changed ||||||||| `);
      break;
    }
    size += row.length + 1;
    rows.push(row);
  }
  const fallbacks = items.filter((i) => i.fallback).map((i) => `- ${i.file}: ${i.fallback}`);
  return [...head, ...rows, ...(fallbacks.length ? ['', ...fallbacks] : [])].join('\n');
}

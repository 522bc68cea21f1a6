import { OperatorError, UsageError } from '../errors.js';
import { readBlobs } from '../git/blobs.js';
import { blobsAt, commitOnto, fetchBranches, pushCommits } from '../git/review.js';
import { isoUtc } from '../model/time.js';
import { hasProposal } from './propose.js';
import { type ReviewWorkspace, readCampaign } from './workspace.js';

export interface KeepOptions {
  campaign: string;
  user: string;
  app?: string;
  reason: string;
  now: number;
}

export type KeepResult =
  | { kept: true; file: string; branch: string; commit: string }
  | { kept: false; file: string; why: string };

/**
 * Keeps an item: commits, on its reviewer's campaign branch and as the
 * person running it, the grant file as the campaign found it (the proposed
 * end removed), with the reason in the commit's trailers. Only the item's
 * reviewer or a Super Admin keeps it, and never its grantee.
 */
export async function keepItem(ws: ReviewWorkspace, options: KeepOptions): Promise<KeepResult> {
  if (!options.reason.trim())
    throw new UsageError('--reason is required: say why the access is still needed');
  const campaign = await readCampaign(ws, options.campaign);
  const people = ws.repo.people?.value?.people ?? [];
  const key = options.user.toLowerCase();
  const user = people.find((p) => p.id === key || p.email.toLowerCase() === key)?.id ?? options.user;
  const found = campaign.reviewers.flatMap((reviewer) =>
    reviewer.items
      .filter((i) => i.user === user && (options.app === undefined || i.app === options.app))
      .map((item) => ({ reviewer, item })),
  );
  if (found.length === 0)
    throw new UsageError(
      `${options.campaign} has no item for --user ${options.user}${options.app ? ` --app ${options.app}` : ''}`,
    );
  if (found.length > 1)
    throw new UsageError(
      `--user ${options.user} has access to ${found.map((f) => f.item.app).join(', ')} in ${options.campaign}: pass --app`,
    );
  const { reviewer, item } = found[0]!;
  if (!ws.me)
    throw new OperatorError(
      `git config user.email (${ws.email ?? 'unset'}) names no person in grants/_people.yaml: a keep is made as its reviewer`,
    );
  if (ws.me === item.user)
    throw new OperatorError(
      `${ws.me} may not keep their own access (${item.file}): the grantee never reviews their own item; ${reviewer.person} reviews it`,
    );
  const admins = ws.repo.settings?.value?.roles?.['super-admin'] ?? [];
  if (ws.me !== reviewer.person && !admins.includes(ws.me))
    throw new OperatorError(
      `${ws.me} does not review ${item.file} in ${options.campaign}: ${reviewer.person} does`,
    );

  const head = (await fetchBranches(ws.root, [reviewer.branch], ws.remote)).get(reviewer.branch);
  if (!head) throw new OperatorError(`${ws.remote} has no branch ${reviewer.branch}: the campaign is closed`);
  const [blob] = (await blobsAt(ws.root, head, [item.file])).values();
  const texts = await readBlobs(ws.root, [item.blob, ...(blob ? [blob] : [])]);
  if (blob && !hasProposal(texts.get(blob), options.campaign))
    return {
      kept: false,
      file: item.file,
      why: 'it carries no proposed end on the branch: kept already, or edited',
    };
  const base = texts.get(item.blob);
  if (base === undefined)
    throw new OperatorError(`cannot read ${item.file} as the campaign found it (${item.blob})`);
  const reason = options.reason.replace(/[\r\n]+/g, ' ').trim();
  const commit = await commitOnto(ws.root, {
    parents: [head],
    changes: new Map([[item.file, base]]),
    message: `Keep ${item.user}'s access to ${item.app} (review ${options.campaign})\n\n${reason}\n\nIden-Review: ${options.campaign}\nIden-Keep: ${item.file}\nIden-Reviewer: ${ws.me}\nIden-Reason: ${reason}\nIden-At: ${isoUtc(options.now)}\n`,
    date: isoUtc(options.now),
  });
  const refused = await pushCommits(ws.root, ws.remote, [{ commit, branch: reviewer.branch, lease: head }]);
  if (refused)
    throw new OperatorError(`could not push ${reviewer.branch}: ${refused}; nothing was changed there`);
  return { kept: true, file: item.file, branch: reviewer.branch, commit };
}

import { connectorMetas } from '../../connectors/catalog.js';
import { accountFor } from '../../model/accounts.js';
import { error, type Finding } from '../../model/diagnostics.js';
import { groupBy } from '../../util/group-by.js';
import type { RuleContext } from '../context.js';

/** Each connector's own checks of its apps (name limits, accounts that are roles), from its folder. */
export function connectorRules(ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  const byFolder = groupBy(ctx.grants, (g) => g.folder);
  for (const app of ctx.apps.values()) {
    const meta = app.connectorType === undefined ? undefined : connectorMetas[app.connectorType];
    const raw = ctx.repo.apps.get(app.id)?.raw;
    if (!meta?.rules || !raw) continue;
    const grants = (byFolder.get(app.id) ?? []).map((g) => {
      const person = ctx.people.get(g.user);
      return {
        file: g.file,
        user: g.user,
        account: person && accountFor(person, app.id, meta.accountDefault),
      };
    });
    for (const rule of meta.rules)
      for (const f of rule({ id: app.id, file: app.file, raw, grants }))
        findings.push(error(f.file, f.code, f.message, f.path));
  }
  return findings;
}

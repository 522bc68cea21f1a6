import { accountFor } from '../../model/accounts.js';
import { type AppSpec, type ConnectorContext, type Session, typed } from '../types.js';
import { Directory } from './client.js';
import { mappings, resolveConfig } from './config.js';
import meta from './meta.js';
import { LdapSession } from './session.js';
import type { LdapConnector, LdapEntitlement, LdapLicense } from './settings.generated.js';

/** Opens a session on the directory; nothing is sent until observe binds. */
export async function open(app: AppSpec, context: ConnectorContext): Promise<Session> {
  const { connector, entitlements, licenses } = typed<LdapConnector, LdapEntitlement, LdapLicense>(app);
  const config = resolveConfig(connector, context.repoRoot);
  const directory = new Directory(
    config,
    context.env[config.bindDnEnv] ?? '',
    context.env[config.bindPasswordEnv] ?? '',
  );
  // The accounts _people.yaml gives here: an entry with several values (mail) is known by the one a person has.
  const known = new Set<string>();
  for (const person of context.people?.values() ?? []) {
    const account = accountFor(person, app.id, meta.accountDefault);
    if (account !== undefined) known.add(account.toLowerCase());
  }
  return new LdapSession(directory, config, app.id, mappings(entitlements, licenses), known, context);
}

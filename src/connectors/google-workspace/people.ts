// What iden import fills _people.yaml with from Google Workspace: each
// user's name, primary organization (department, title, employee type),
// organizational unit and manager, from one pass of users.list.
import type { HeldProfile } from '../../model/access.js';
import { eachUser } from './read.js';
import type { Api, GoogleClient } from './transport.js';

/**
 * Only the fields a profile needs (a partial response): projection basic
 * gives every standard field, organizations and relations among them; no
 * custom schema is read.
 */
const FIELDS = 'nextPageToken,users(primaryEmail,aliases,name/fullName,orgUnitPath,organizations,relations)';

interface Organization {
  primary?: boolean;
  department?: string;
  title?: string;
  /** The Admin console's "Type of employee" (Employee, Contractor…). */
  description?: string;
}

/**
 * Each user's profile by primary address and alias (lower-case), every user
 * of the customer (or of the admin's domain), a page of 500 at a time.
 */
export async function listProfiles(
  client: GoogleClient,
  api: Api,
  scope: { customer: string } | { domain: string },
  adminEmail: string,
): Promise<Map<string, HeldProfile>> {
  const out = new Map<string, HeldProfile>();
  const query = { projection: 'basic', fields: FIELDS };
  await eachUser(client, api, scope, query, "reading users' profiles", adminEmail, (u, names) => {
    const profile = profileOf(u);
    for (const name of names) out.set(name, profile);
  });
  return out;
}

/** One user of users.list as _people.yaml keeps a person: texts only, the manager's address as its account. */
export function profileOf(u: Record<string, unknown>): HeldProfile {
  const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  const organizations = (Array.isArray(u.organizations) ? u.organizations : []) as Organization[];
  const org = organizations.find((o) => o?.primary === true) ?? organizations[0];
  const attributes: Record<string, string> = {};
  const department = text(org?.department);
  const title = text(org?.title);
  const employment = text(org?.description);
  const unit = text(u.orgUnitPath);
  if (department) attributes.department = department;
  if (title) attributes.title = title;
  if (employment) attributes.employment = employment;
  if (unit && unit !== '/') attributes.orgUnit = unit;
  const relations = (Array.isArray(u.relations) ? u.relations : []) as { type?: unknown; value?: unknown }[];
  const manager = text(relations.find((r) => r?.type === 'manager')?.value);
  const name = text((u.name as { fullName?: unknown } | undefined)?.fullName);
  return {
    ...(name ? { name } : {}),
    email: String(u.primaryEmail),
    ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
    ...(manager ? { managerAccount: manager } : {}),
  };
}

import type { ScimClient } from './transport.js';

export interface ScimUser {
  id: string;
  userName: string;
  externalId?: string;
  active?: boolean;
  roles?: { value: string }[];
  entitlements?: { value: string }[];
  /** The groups the User is in, where the service says so (RFC 7643 §4.1.2: read-only, and often left out). */
  groups?: { value: string; display?: string }[];
  meta?: { version?: string };
  /** What the service knows of the person (RFC 7643 §4.1.1, §4.3), read only by iden import. */
  name?: { formatted?: string; givenName?: string; familyName?: string };
  displayName?: string;
  emails?: { value: string; primary?: boolean }[];
  title?: string;
  [ENTERPRISE]?: { department?: string; manager?: { value?: string } };
}

/** The enterprise User extension's schema URI (RFC 7643 §4.3). */
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export interface ScimGroup {
  id: string;
  displayName: string;
  members?: { value: string }[];
  meta?: { version?: string };
}

interface ListResponse<T> {
  Resources?: T[];
  totalResults?: number;
  startIndex?: number;
}

/** A listing that read fewer resources than the service says it has: never taken as all of them. */
export class PartialListError extends Error {}

/**
 * Every resource of a list, page by page. A service may return fewer than
 * asked on any page, so only an empty page, one smaller than an earlier page,
 * or one that brings nothing new (a service that ignores startIndex) ends the
 * listing; then the count read is checked against totalResults: fewer is a
 * partial read (an error), more says the service miscounts (a notice).
 */
export async function listAll<T extends { id: string }>(
  client: ScimClient,
  path: string,
  onNotice: (text: string) => void,
): Promise<T[]> {
  const all = new Map<string, T>();
  let start = 1;
  let largest = 0;
  let total: number | undefined;
  for (let page = 0; page < 100_000; page++) {
    const { data } = await client.call<ListResponse<T>>('GET', `${path}?startIndex=${start}&count=100`);
    const resources = data.Resources ?? [];
    if (typeof data.totalResults === 'number') total = data.totalResults;
    const before = all.size;
    for (const r of resources) all.set(r.id, r);
    const ignoresPaging = typeof data.startIndex === 'number' && data.startIndex !== start;
    if (resources.length === 0 || resources.length < largest || all.size === before || ignoresPaging) break;
    largest = Math.max(largest, resources.length);
    start += resources.length;
  }
  if (total !== undefined && all.size < total)
    throw new PartialListError(
      `GET ${path} listed ${all.size} of the ${total} the service says it has: a partial read is never used`,
    );
  if (total !== undefined && all.size > total)
    onNotice(`GET ${path} says ${total} in all (totalResults) but listed ${all.size}: read to the end`);
  return [...all.values()];
}

/**
 * The groups an app maps, by display name, those the service has (the caller
 * judges a missing one): one filtered query each where the service filters,
 * and one listing of every group when it does not, or when a filter fails (a
 * name with quotes can break a service's filter parser).
 */
export async function findGroups(
  client: ScimClient,
  names: readonly string[],
  filter: boolean,
  onNotice: (text: string) => void,
): Promise<Map<string, ScimGroup>> {
  const found = new Map<string, ScimGroup>();
  let listed: ScimGroup[] | undefined;
  const list = async () => {
    listed ??= await listAll<ScimGroup>(client, '/Groups', onNotice);
    return listed;
  };
  for (const name of names) {
    let group: ScimGroup | undefined;
    if (filter) {
      const expression = `displayName eq "${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
      try {
        const { data } = await client.call<ListResponse<ScimGroup>>(
          'GET',
          `/Groups?filter=${encodeURIComponent(expression)}`,
        );
        group = data.Resources?.find((g) => g.displayName === name);
      } catch (e) {
        onNotice(
          `the service's filter failed on ${JSON.stringify(name)} (${(e as Error).message}): found it by listing every group`,
        );
        group = (await list()).find((g) => g.displayName === name);
      }
    } else group = (await list()).find((g) => g.displayName === name);
    if (group) found.set(name, group);
  }
  return found;
}

import type { ScimGroup } from './read.js';
import type { ScimClient } from './transport.js';
import { type Form, type Op, PATCH_SCHEMA } from './users.js';

/**
 * Writes a group's member changes in one request: adds together and, in the
 * filter form, one filtered remove per member. In the replace form, and for a
 * service without PATCH, the group is read fresh and its whole member list
 * written back (If-Match on its version where the service keeps one, so a
 * concurrent edit is never lost: it fails, and is retried on a fresh read).
 */
export async function writeMembers(
  client: ScimClient,
  group: ScimGroup,
  add: string[],
  remove: string[],
  form: Form,
  patch: boolean,
): Promise<ScimGroup> {
  if (patch && form === 'filter') {
    const ops: Op[] = [];
    if (add.length > 0) ops.push({ op: 'add', path: 'members', value: add.map((value) => ({ value })) });
    for (const id of remove) ops.push({ op: 'remove', path: `members[value eq ${JSON.stringify(id)}]` });
    await client.call('PATCH', `/Groups/${group.id}`, { schemas: [PATCH_SCHEMA], Operations: ops });
    return withMembers(group, add, remove);
  }
  const { data: fresh, etag } = await client.call<ScimGroup>('GET', `/Groups/${group.id}`);
  const next = withMembers(fresh, add, remove);
  const members = next.members ?? [];
  if (patch) {
    await client.call(
      'PATCH',
      `/Groups/${group.id}`,
      { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'members', value: members }] },
      etag,
    );
  } else {
    const { meta: _meta, ...rest } = fresh as ScimGroup & { meta?: unknown };
    await client.call('PUT', `/Groups/${group.id}`, { ...rest, members }, etag);
  }
  return next;
}

export function withMembers(group: ScimGroup, add: string[], remove: string[]): ScimGroup {
  const ids = new Set((group.members ?? []).map((m) => m.value));
  for (const id of add) ids.add(id);
  for (const id of remove) ids.delete(id);
  return { ...group, members: [...ids].map((value) => ({ value })) };
}

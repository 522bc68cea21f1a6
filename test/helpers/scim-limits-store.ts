import { randomUUID } from 'node:crypto';
import { type ScimPatchOperation, scimPatch } from 'scim-patch';
import { type Filter, filter, parse } from 'scim2-parse-filter';

export const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export type Resource = Record<string, unknown> & { id: string; schemas: string[] };

/** A refusal as SCIM words it (RFC 7644 §3.12). */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly scimType: string | undefined,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * Which filters the service takes, as the large identity services publish
 * them for provisioning (Entra ID's SCIM guidance, Okta's SCIM 2.0
 * requirements): `eq` on a few attributes, joined by `and`, and a Group's
 * members by value. Anything else is refused 400 invalidFilter.
 */
const FILTERABLE: Record<'Users' | 'Groups', ReadonlySet<string>> = {
  Users: new Set(['id', 'userName', 'externalId', 'displayName', 'emails.value']),
  Groups: new Set(['id', 'displayName', 'externalId', 'members.value']),
};
/** Compared without regard to case, as RFC 7643 defines them (caseExact false). */
const CASELESS = new Set(['userName', 'displayName', 'emails.value']);

function accepted(f: Filter, kind: 'Users' | 'Groups'): boolean {
  if (f.op === 'and') return f.filters.every((g) => accepted(g, kind));
  if (f.op === 'eq') return FILTERABLE[kind].has(f.attrPath);
  if (f.op === '[]')
    return (
      f.valFilter.op === 'eq' &&
      FILTERABLE[kind].has(`${f.attrPath}.${(f.valFilter as { attrPath: string }).attrPath}`)
    );
  return false;
}

/** Lower-cases the compared values of caseless attributes, in a filter and in a resource alike. */
function folded(f: Filter): Filter {
  if (f.op === 'and') return { ...f, filters: f.filters.map(folded) };
  if (f.op === 'eq' && CASELESS.has(f.attrPath) && typeof f.compValue === 'string')
    return { ...f, compValue: f.compValue.toLowerCase() };
  return f;
}
const foldedResource = (r: Resource): Resource => ({
  ...r,
  ...(typeof r.userName === 'string' ? { userName: r.userName.toLowerCase() } : {}),
  ...(typeof r.displayName === 'string' ? { displayName: r.displayName.toLowerCase() } : {}),
});

/**
 * The resources of the service. Filters are parsed and matched by
 * scim2-parse-filter and PATCH operations applied by scim-patch, libraries
 * the connector does not use, so a request it words wrongly is refused here
 * as a conformant service would refuse it.
 */
export class LimitsStore {
  readonly users = new Map<string, Resource>();
  readonly groups = new Map<string, Resource>();

  constructor(private readonly now: () => number) {}

  private map(kind: 'Users' | 'Groups') {
    return kind === 'Users' ? this.users : this.groups;
  }

  private stamp(): { created: string; lastModified: string } {
    const at = new Date(this.now()).toISOString();
    return { created: at, lastModified: at };
  }

  /** A User as the service shows it: with the groups it is in (read-only, RFC 7643 §4.1.2). */
  show(kind: 'Users' | 'Groups', r: Resource): Resource {
    if (kind === 'Groups') return r;
    const groups = [...this.groups.values()]
      .filter((g) => ((g.members ?? []) as { value: string }[]).some((m) => m.value === r.id))
      .map((g) => ({ value: g.id, display: g.displayName, type: 'direct' }));
    return { ...r, groups };
  }

  list(kind: 'Users' | 'Groups', expression: string | undefined): Resource[] {
    const all = [...this.map(kind).values()];
    if (expression === undefined) return all;
    let f: Filter;
    try {
      f = parse(expression);
    } catch (e) {
      throw new Refusal(400, 'invalidFilter', `the filter does not parse: ${(e as Error).message}`);
    }
    if (!accepted(f, kind))
      throw new Refusal(400, 'invalidFilter', `only eq on ${[...FILTERABLE[kind]].join(', ')} is supported`);
    const match = filter(folded(f));
    return all.filter((r) => match(foldedResource(r)));
  }

  get(kind: 'Users' | 'Groups', id: string): Resource {
    const found = this.map(kind).get(id);
    if (!found) throw new Refusal(404, undefined, `${kind} ${id} not found`);
    return found;
  }

  create(kind: 'Users' | 'Groups', body: Record<string, unknown>): Resource {
    const unique = kind === 'Users' ? 'userName' : 'displayName';
    const name = body[unique];
    if (typeof name !== 'string' || name === '')
      throw new Refusal(400, 'invalidValue', `${unique} is required`);
    const clash = [...this.map(kind).values()].some(
      (r) => String(r[unique]).toLowerCase() === name.toLowerCase(),
    );
    if (clash) throw new Refusal(409, 'uniqueness', `${unique} ${name} is already taken`);
    const { id: _id, meta: _meta, groups: _groups, ...rest } = body;
    const id = randomUUID();
    const resource: Resource = {
      ...rest,
      id,
      schemas: [kind === 'Users' ? USER : GROUP],
      ...(kind === 'Users' ? { active: rest.active ?? true } : { members: rest.members ?? [] }),
      meta: { resourceType: kind === 'Users' ? 'User' : 'Group', ...this.stamp() },
    };
    this.map(kind).set(id, resource);
    return resource;
  }

  patch(kind: 'Users' | 'Groups', id: string, body: { schemas?: string[]; Operations?: unknown }): Resource {
    const current = this.get(kind, id);
    if (!body.schemas?.includes(PATCH_OP) || !Array.isArray(body.Operations) || body.Operations.length === 0)
      throw new Refusal(400, 'invalidSyntax', `a PATCH body names ${PATCH_OP} and carries Operations`);
    for (const op of body.Operations as { path?: string }[])
      if (op.path && /^(id|meta|groups)\b/.test(op.path))
        throw new Refusal(400, 'mutability', `${op.path} is read-only`);
    let next: Resource;
    try {
      next = scimPatch(
        structuredClone(current) as never,
        body.Operations as ScimPatchOperation[],
      ) as Resource;
    } catch (e) {
      const error = e as Error & { scimCode?: string };
      throw new Refusal(400, error.scimCode ?? 'invalidSyntax', error.message);
    }
    if (kind === 'Groups') {
      // Memberships live in a table of their own here: the list is never absent, and names only Users.
      next.members ??= [];
      for (const m of next.members as { value: string }[])
        if (!this.users.has(m.value)) throw new Refusal(400, 'invalidValue', `no User ${m.value}`);
    }
    const meta = current.meta as Record<string, unknown>;
    next.meta = { ...meta, lastModified: new Date(this.now()).toISOString() };
    this.map(kind).set(id, next);
    return next;
  }
}

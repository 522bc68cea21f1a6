import type { Held } from '../types.js';
import { pages, query, type Read, ReadRefused } from './crawl.js';
import { type Directory, type EntraUser, USER_FIELDS } from './directory.js';
import type { Graph } from './graph.js';
import type { Mapping, Scope } from './observe.js';
import { isGuid, PAGE } from './read.js';

export interface SubscribedSku {
  skuId: string;
  skuPartNumber?: string | null;
  consumedUnits?: number | null;
  prepaidUnits?: { enabled?: number | null };
}

export interface LicensedUser extends EntraUser {
  licenseAssignmentStates?: { skuId?: string | null; assignedByGroup?: string | null }[];
}

/** A product's seats as subscribedSkus counts them, kept current as the run assigns and frees them. */
export interface Seats {
  skuId: string;
  name: string;
  enabled: number;
  consumed: number;
}

/**
 * The tenant's products and their seats (one listing), and the users
 * holding each managed product. A product named by skuId has its holders
 * read at once; by part number, once the listing has given its id.
 */
export function skuReads(
  graph: Graph,
  settings: readonly string[],
  found: (setting: string, sku: SubscribedSku) => void,
  holders: (skuId: string, users: LicensedUser[]) => void,
  fields = USER_FIELDS,
): Read[] {
  const permission = 'LicenseAssignment.Read.All';
  const holderPages = (skuId: string) =>
    pages<LicensedUser>(
      graph,
      `/users${query({
        $filter: `assignedLicenses/any(x:x/skuId eq ${skuId.toLowerCase()})`,
        $select: `${fields},licenseAssignmentStates`,
        $top: PAGE,
      })}`,
      `reading who holds licence ${skuId}`,
      (users) => holders(skuId.toLowerCase(), users),
      { permission: 'User.Read.All' },
    );
  const skus: SubscribedSku[] = [];
  const early = settings.filter(isGuid);
  return [
    pages<SubscribedSku>(
      graph,
      '/subscribedSkus',
      "reading the tenant's licences",
      (page) => skus.push(...page),
      {
        permission,
        done: () => {
          const later: Read[] = [];
          for (const setting of settings) {
            const key = setting.toLowerCase();
            const sku = skus.find(
              (s) => s.skuId.toLowerCase() === key || s.skuPartNumber?.toLowerCase() === key,
            );
            if (!sku)
              throw new ReadRefused(
                `the tenant has no licence ${JSON.stringify(setting)} (it has ${skus.map((s) => s.skuPartNumber ?? s.skuId).join(', ') || 'none'})`,
              );
            found(setting, sku);
            if (!isGuid(setting)) later.push(holderPages(sku.skuId));
          }
          return later;
        },
      },
    ),
    ...early.map(holderPages),
  ];
}

export function seats(sku: SubscribedSku): Seats {
  return {
    skuId: sku.skuId.toLowerCase(),
    name: sku.skuPartNumber ?? sku.skuId,
    enabled: sku.prepaidUnits?.enabled ?? 0,
    consumed: sku.consumedUnits ?? 0,
  };
}

/** A product assigned directly is held; assigned only through a group, it is held through that group (external). */
export function licenceHolders(
  scope: Scope,
  directory: Directory,
  m: Mapping,
  holders: Map<string, LicensedUser[]>,
): Held[] {
  const { skuId } = scope.skus.get(m.sku!)!;
  const direct = scope.licensed.get(skuId) ?? scope.licensed.set(skuId, new Set()).get(skuId)!;
  const held: Held[] = [];
  for (const user of holders.get(skuId) ?? []) {
    const states = (user.licenseAssignmentStates ?? []).filter((s) => s.skuId?.toLowerCase() === skuId);
    const groups = states.flatMap((s) => (s.assignedByGroup ? [s.assignedByGroup] : []));
    const account = directory.accountOf(user);
    const profile = directory.profileOf(user);
    const also = profile ? { profile } : {};
    if (states.length === 0 || groups.length < states.length) {
      direct.add(user.id);
      held.push({ account, license: m.id, ...also });
    } else
      held.push({
        account,
        license: m.id,
        external: `group-based licensing (group ${groups.join(', ')})`,
        ...also,
      });
  }
  return held;
}

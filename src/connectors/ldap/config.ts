import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../http.js';
import type { LdapConnector, LdapEntitlement, LdapLicense } from './settings.generated.js';

export type Flavor = LdapConnector['flavor'];
export type MemberAttribute = 'member' | 'uniqueMember' | 'memberUid';

/** How a mapping is keyed, and the changes for it: an entitlement and a tier may share an id. */
export function mappingKey(m: Pick<Mapping, 'id' | 'license'>): string {
  return `${m.license ? 'l' : 'e'}:${m.id}`;
}

export function changeKey(c: { entitlement?: string | undefined; license?: string | undefined }): string {
  return c.license !== undefined ? `l:${c.license}` : `e:${c.entitlement}`;
}

/** One managed group: an entitlement or a tier, and where its group is. */
export interface Mapping {
  id: string;
  license: boolean;
  dn?: string | undefined;
  name?: string | undefined;
  memberAttribute?: MemberAttribute | undefined;
  /** A mapping the app no longer declares (`id@retired`): a group that has gone is read as empty. */
  retired: boolean;
}

/** The settings with every default filled in, and what the environment and files give. */
export interface Config {
  flavor: Flavor;
  url: string;
  host: string;
  startTls: boolean;
  ca: Buffer | undefined;
  bindDnEnv: string;
  bindPasswordEnv: string;
  baseDn: string;
  groupsBaseDn: string;
  peopleBaseDn: string;
  peopleFilter: string | undefined;
  accountAttribute: NonNullable<LdapConnector['accountAttribute']>;
  placeholderMember: string | undefined;
  disableUnder: string | undefined;
  timeoutMs: number;
  pageSize: number;
  maxValuesPerModify: number;
}

export const DEFAULT_BIND_DN_ENV = 'LDAP_BIND_DN';
export const DEFAULT_BIND_PASSWORD_ENV = 'LDAP_BIND_PASSWORD';

/** A setting that cannot work (plain LDAP across the network, a CA file that cannot be read). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Whether a host name is this machine: the only place plain ldap:// is allowed by default. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

export function resolveConfig(connector: LdapConnector, repoRoot: string): Config {
  const url = connector.url.replace(/\/$/, '');
  const host = new URL(url).hostname;
  const plain = url.startsWith('ldap://') && !connector.startTls;
  if (plain && !connector.allowPlainLdap && !isLoopback(host))
    throw new ConfigError(
      `${url} is plain LDAP to another machine: the bind password would cross the network in clear. Use ldaps://, set startTls: true, or (on a network you trust) allowPlainLdap: true`,
    );
  let ca: Buffer | undefined;
  if (connector.caFile !== undefined) {
    const path = isAbsolute(connector.caFile) ? connector.caFile : join(repoRoot, connector.caFile);
    try {
      ca = readFileSync(path);
    } catch (e) {
      throw new ConfigError(`cannot read caFile ${path}: ${(e as Error).message}`);
    }
  }
  const ad = connector.flavor === 'active-directory';
  return {
    flavor: connector.flavor,
    url,
    host,
    startTls: connector.startTls ?? false,
    ca,
    bindDnEnv: connector.bindDnEnv ?? DEFAULT_BIND_DN_ENV,
    bindPasswordEnv: connector.bindPasswordEnv ?? DEFAULT_BIND_PASSWORD_ENV,
    baseDn: connector.baseDn,
    groupsBaseDn: connector.groupsBaseDn ?? connector.baseDn,
    peopleBaseDn: connector.peopleBaseDn ?? connector.baseDn,
    peopleFilter: connector.peopleFilter,
    accountAttribute: connector.accountAttribute ?? (ad ? 'sAMAccountName' : 'uid'),
    placeholderMember: connector.placeholderMember,
    disableUnder: ad ? connector.disableOnOffboard?.under : undefined,
    timeoutMs: connector.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    pageSize: connector.pageSize ?? 500,
    maxValuesPerModify: connector.maxValuesPerModify ?? 5000,
  };
}

export function mappings(entitlements: LdapEntitlement[], licenses: LdapLicense[]): Mapping[] {
  const of = (m: LdapEntitlement | LdapLicense, license: boolean): Mapping => ({
    id: m.id,
    license,
    dn: m.dn,
    name: m.name,
    memberAttribute: m.memberAttribute,
    retired: m.id.includes('@retired'),
  });
  return [...entitlements.map((e) => of(e, false)), ...licenses.map((l) => of(l, true))];
}

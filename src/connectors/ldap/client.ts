import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import {
  Attribute,
  Change,
  Client,
  Control,
  FilterParser,
  PagedResultsControl,
  SearchRequest,
  type SearchResponse,
  StatusCodeParser,
} from 'ldapts';
import type { Config } from './config.js';
import { ReferralError, unreachable } from './errors.js';

/** An entry as read: its DN and each attribute asked for, by the name the server gave it. */
export type LdapEntry = { dn: string } & Record<string, string | string[] | Buffer | Buffer[]>;

export interface Search {
  base: string;
  scope: 'base' | 'one' | 'sub';
  filter: string;
  attributes: string[];
  /** RFC 2696 paged results, pageSize entries a page. */
  paged?: boolean;
}

export interface Modification {
  operation: 'add' | 'delete' | 'replace';
  attribute: string;
  values: string[];
}

// LDAP_SERVER_DOMAIN_SCOPE_OID: Active Directory then answers from this domain only, without
// continuation references to the configuration and DNS partitions below the domain's root.
const DOMAIN_SCOPE = '1.2.840.113556.1.4.1339';

/**
 * One connection to the directory, bound as iden's account, made again
 * (connected, upgraded, bound) whenever it has dropped: ldapts reconnects by
 * itself but unbound, and an anonymous write must never be what follows a
 * restart. Counts every request sent, for the benchmark.
 */
export class Directory {
  requests = 0;
  private client: Client | undefined;

  constructor(
    private readonly config: Config,
    private readonly bindDn: string,
    private readonly password: string,
  ) {}

  private tls(): ConnectionOptions {
    const { host, ca } = this.config;
    return {
      minVersion: 'TLSv1.2',
      host,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ...(ca ? { ca } : {}),
    };
  }

  /** A connection bound as iden's account, new if the last one dropped. */
  private async bound(): Promise<Client> {
    if (this.client?.isConnected && this.client.isBound) return this.client;
    await this.drop();
    const { config } = this;
    const ldaps = config.url.startsWith('ldaps://');
    // ldapts takes TLS options on an ldap:// URL as a request for ldaps: StartTLS gets them separately.
    const client = new Client({
      url: config.url,
      timeout: config.timeoutMs,
      connectTimeout: config.timeoutMs,
      strictDN: false,
      ...(ldaps ? { tlsOptions: this.tls() } : {}),
    });
    let step = `connecting to ${config.url}`;
    try {
      if (config.startTls) {
        step = `StartTLS with ${config.url}`;
        this.requests++;
        await withDeadline(client.startTLS(this.tls()), config.timeoutMs, step);
      }
      step = `binding to ${config.url} as ${this.bindDn}`;
      this.requests++;
      await client.bind(this.bindDn, this.password);
    } catch (e) {
      await client.unbind().catch(() => undefined);
      throw unreachable(e, step, this.config);
    }
    this.client = client;
    return client;
  }

  /** Every entry the search finds, all pages read; a referral anywhere fails it. */
  async search(search: Search): Promise<LdapEntry[]> {
    const client = await this.bound();
    const controls = this.config.flavor === 'active-directory' ? [new Control(DOMAIN_SCOPE)] : [];
    const paging = search.paged
      ? new PagedResultsControl({ value: { size: this.config.pageSize } })
      : undefined;
    const request = new SearchRequest({
      messageId: -1,
      baseDN: search.base,
      scope: search.scope,
      filter: FilterParser.parseString(search.filter),
      attributes: search.attributes,
      explicitBufferAttributes: [],
      returnAttributeValues: true,
      sizeLimit: 0,
      timeLimit: Math.ceil(this.config.timeoutMs / 1000),
      controls: paging ? [...controls, paging] : controls,
    });
    const entries: LdapEntry[] = [];
    let cookie: Buffer = Buffer.alloc(0);
    do {
      if (paging) paging.value = { size: this.config.pageSize, cookie };
      const response = await send(client, request);
      this.requests++;
      if (response.status !== 0) throw StatusCodeParser.parse(response);
      const references = response.searchReferences.flatMap((r) => r.uris);
      if (references.length > 0)
        throw new ReferralError(
          `the server referred part of the search under ${search.base} to ${references.join(', ')}; iden does not follow referrals: set the base DNs to what this server holds`,
        );
      for (const entry of response.searchEntries)
        entries.push(entry.toObject(search.attributes, []) as unknown as LdapEntry);
      // Read the cookie, not the page: a page may be empty and still not the last (Active Directory, on a slow filter).
      const answer = response.controls?.find((c) => c instanceof PagedResultsControl) as
        | PagedResultsControl
        | undefined;
      // A server without paging answers the first request whole; one that pages must say so every time.
      if (paging && cookie.length > 0 && !answer)
        throw new Error(
          `the server stopped paging the search under ${search.base} part way: the read is incomplete`,
        );
      cookie = answer?.value?.cookie ?? Buffer.alloc(0);
    } while (paging && cookie.length > 0);
    return entries;
  }

  async modify(dn: string, modifications: Modification[]): Promise<void> {
    const client = await this.bound();
    this.requests++;
    await client.modify(
      dn,
      modifications.map(
        (m) =>
          new Change({
            operation: m.operation,
            modification: new Attribute({ type: m.attribute, values: m.values }),
          }),
      ),
    );
  }

  /** Whether the entry holds the value: the directory's own matching rule decides. */
  async compare(dn: string, attribute: string, value: string): Promise<boolean> {
    const client = await this.bound();
    this.requests++;
    return client.compare(dn, attribute, value);
  }

  private async drop(): Promise<void> {
    const old = this.client;
    this.client = undefined;
    await old?.unbind().catch(() => undefined);
  }

  close(): Promise<void> {
    return this.drop();
  }
}

interface Internals {
  _send(message: SearchRequest): Promise<SearchResponse>;
  _nextMessageId(): number;
}

/**
 * One search request and its whole response, controls included. ldapts's own
 * paging stops at the first empty page and never shows the cookie, so a
 * server that sends an empty page mid-way would be read short; its request
 * machinery (timeouts included) is used directly instead.
 */
async function send(client: Client, request: SearchRequest): Promise<SearchResponse> {
  const internals = client as unknown as Internals;
  if (typeof internals._send !== 'function' || typeof internals._nextMessageId !== 'function')
    throw new Error('this ldapts version has no _send: paged reads need the version package.json names');
  request.messageId = internals._nextMessageId();
  return internals._send(request);
}

/** A promise that must settle in time: for the steps ldapts itself sets no deadline on (the TLS handshake of StartTLS). */
async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  let onAbort: (() => void) | undefined;
  const expired = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error(`${what}: no answer within ${Math.round(ms / 1000)} s`));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

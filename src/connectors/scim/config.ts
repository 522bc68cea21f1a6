import type { ScimClient } from './transport.js';

/** What the service says it supports, from /ServiceProviderConfig. */
export interface Capabilities {
  filter: boolean;
  patch: boolean;
  /** The most operations one /Bulk request may carry; 0 when bulk is not offered (or PATCH is not). */
  bulkMax: number;
  /** Whether resources carry versions for If-Match. */
  etag: boolean;
}

export async function readCapabilities(client: ScimClient): Promise<Capabilities> {
  const { data } = await client.call<{
    filter?: { supported?: boolean };
    patch?: { supported?: boolean };
    bulk?: { supported?: boolean; maxOperations?: number };
    etag?: { supported?: boolean };
  }>('GET', '/ServiceProviderConfig');
  const patch = data.patch?.supported ?? false;
  return {
    filter: data.filter?.supported ?? false,
    patch,
    bulkMax: data.bulk?.supported && patch ? (data.bulk.maxOperations ?? 0) : 0,
    etag: data.etag?.supported ?? false,
  };
}

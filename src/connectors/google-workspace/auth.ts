import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import type { Clock } from '../../model/clock.js';
import { fetchWithDeadline } from '../http.js';
import { AppStoppedError, TransientError } from '../types.js';

/** Google's token endpoint, when neither the settings nor the key name one. */
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
/** How long a signed assertion asks its token to live: Google's most, an hour. */
const LIFETIME_S = 3600;
/** A token this close to its end is renewed first, so no request carries one that expires on the way. */
const RENEW_BEFORE_MS = 60_000;

/** The fields of a service account's JSON key iden uses. The private key never leaves this module in a message. */
export interface ServiceAccountKey {
  clientEmail: string;
  privateKey: KeyObject;
  tokenUri: string | undefined;
}

/** The key in the environment cannot be used: says which variable and why, never what it holds. */
export class KeyError extends Error {
  override readonly name = 'KeyError';
}

/** Reads a service account's JSON key (as Google Cloud downloads it) from the text of `variable`. */
export function parseKey(text: string, variable: string): ServiceAccountKey {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new KeyError(`${variable} is not a service account's JSON key (it is not JSON)`);
  }
  if (typeof json !== 'object' || json === null) throw new KeyError(`${variable} is not a JSON object`);
  const { client_email: clientEmail, private_key: pem, token_uri: tokenUri } = json;
  if (typeof clientEmail !== 'string' || typeof pem !== 'string')
    throw new KeyError(
      `${variable} lacks client_email or private_key: give the service account's whole JSON key`,
    );
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new KeyError(`${variable}: private_key is not a PEM private key`);
  }
  return { clientEmail, privateKey, tokenUri: typeof tokenUri === 'string' ? tokenUri : undefined };
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The signed assertion of RFC 7523 that Google's token endpoint takes: RS256, acting as `subject`. */
export function signAssertion(
  key: ServiceAccountKey,
  claims: { subject: string; scopes: readonly string[]; audience: string; now: number },
): string {
  const iat = Math.floor(claims.now / 1000);
  const unsigned = `${base64url({ alg: 'RS256', typ: 'JWT' })}.${base64url({
    iss: key.clientEmail,
    sub: claims.subject,
    scope: claims.scopes.join(' '),
    aud: claims.audience,
    iat,
    exp: iat + LIFETIME_S,
  })}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(key.privateKey).toString('base64url');
  return `${unsigned}.${signature}`;
}

/** The token endpoint refused the service account: nothing will work until someone fixes the key or the delegation. */
export class CredentialsRefused extends AppStoppedError {}

/**
 * Access tokens for one service account acting as one admin: fetched when
 * first needed, kept until a minute before they end, fetched again after
 * Google refuses one (401). Counts its requests (they are calls too).
 */
export class TokenSource {
  requests = 0;
  private current: { token: string; until: number } | undefined;
  private pending: Promise<string> | undefined;
  /** The endpoint refused the key: asking again would only be refused again, so it is not asked. */
  private refused: CredentialsRefused | undefined;

  constructor(
    private readonly key: ServiceAccountKey,
    private readonly options: {
      subject: string;
      scopes: readonly string[];
      tokenUri: string;
      timeoutMs: number;
      clock: Clock;
      variable: string;
    },
  ) {}

  async token(): Promise<string> {
    if (this.refused) throw this.refused;
    const now = this.options.clock.now();
    if (this.current && this.current.until - RENEW_BEFORE_MS > now) return this.current.token;
    this.pending ??= this.fetch(now).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Google refused the token: the next request fetches another. */
  invalidate(): void {
    this.current = undefined;
  }

  private async fetch(now: number): Promise<string> {
    const { subject, scopes, tokenUri, timeoutMs } = this.options;
    const assertion = signAssertion(this.key, { subject, scopes, audience: tokenUri, now });
    this.requests++;
    const what = `getting an access token from ${tokenUri}`;
    const { response, text } = await fetchWithDeadline(
      tokenUri,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion,
        }).toString(),
      },
      timeoutMs,
      what,
    );
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = {};
    }
    if (response.ok && typeof body.access_token === 'string') {
      const seconds = typeof body.expires_in === 'number' ? body.expires_in : LIFETIME_S;
      this.current = { token: body.access_token, until: now + seconds * 1000 };
      return body.access_token;
    }
    if (response.status === 429 || response.status >= 500)
      throw new TransientError(`${what}: the endpoint answered ${response.status}`);
    const code = typeof body.error === 'string' ? body.error : `HTTP ${response.status}`;
    const description =
      typeof body.error_description === 'string' ? `: ${body.error_description.slice(0, 200)}` : '';
    this.refused = new CredentialsRefused(
      `the token endpoint refused service account ${this.key.clientEmail} acting as ${subject} (${code}${description}): check the key in ${this.options.variable}, and that domain-wide delegation gives its client id the scopes ${scopes.join(', ')}`,
    );
    throw this.refused;
  }
}

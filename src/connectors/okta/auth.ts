import { createPrivateKey, type KeyObject, randomUUID, sign } from 'node:crypto';
import type { Clock } from '../../model/clock.js';
import { fetchWithDeadline } from '../http.js';
import { AppStoppedError, TransientError } from '../types.js';
import type { Auth } from './client.js';

/** An API token: every request signed `SSWS <token>`, with the permissions of the admin who made it. */
export function apiToken(token: string): Auth {
  return { header: async () => `SSWS ${token}` };
}

/** A private key as Okta's console gives it: PEM (PKCS#8 or PKCS#1) or a JWK in JSON. */
export interface SigningKey {
  key: KeyObject;
  alg: 'RS256' | 'ES256' | 'ES384' | 'ES512';
  kid: string | undefined;
}

export function signingKey(text: string, variable: string): SigningKey {
  let key: KeyObject;
  let kid: string | undefined;
  try {
    const trimmed = text.trim();
    if (trimmed.startsWith('{')) {
      const jwk = JSON.parse(trimmed) as { kid?: string } & Record<string, unknown>;
      kid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
      key = createPrivateKey({ key: jwk as never, format: 'jwk' });
    } else key = createPrivateKey(trimmed.replace(/\\n/g, '\n'));
  } catch (e) {
    // The message of a parse failure never quotes the key.
    throw new AppStoppedError(
      `${variable} does not hold a private key iden can read (PEM or JWK): ${(e as Error).name}`,
    );
  }
  if (key.asymmetricKeyType === 'rsa') return { key, alg: 'RS256', kid };
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const alg = curve === 'secp384r1' ? 'ES384' : curve === 'secp521r1' ? 'ES512' : 'ES256';
    return { key, alg, kid };
  }
  throw new AppStoppedError(`${variable} holds a ${key.asymmetricKeyType} key; Okta takes RSA or EC keys`);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * The client assertion of RFC 7523 as Okta wants it: issued by and about the
 * client, for the org's token endpoint, five minutes long, with a jti Okta
 * never sees twice.
 */
export function clientAssertion(clientId: string, audience: string, key: SigningKey, now: number): string {
  const header = { alg: key.alg, typ: 'JWT', ...(key.kid ? { kid: key.kid } : {}) };
  const iat = Math.floor(now / 1000);
  const claims = { iss: clientId, sub: clientId, aud: audience, iat, exp: iat + 300, jti: randomUUID() };
  const input = `${b64(header)}.${b64(claims)}`;
  const hash = `sha${key.alg.slice(2)}`;
  const signature = sign(hash, Buffer.from(input), {
    key: key.key,
    ...(key.alg.startsWith('ES') ? { dsaEncoding: 'ieee-p1363' as const } : {}),
  });
  return `${input}.${signature.toString('base64url')}`;
}

interface Token {
  value: string;
  expiresAt: number;
  write: boolean;
}

/**
 * An OAuth 2.0 service app: client credentials with a private-key JWT at the
 * org's /oauth2/v1/token. Reads use a token with the read scopes alone; the
 * first write asks for one with the manage scopes too, so a plan needs only a
 * read-only grant. Tokens are kept until a minute before they expire.
 */
export class ServiceApp implements Auth {
  /** Token requests made, for the bench's count. */
  requests = 0;
  private tokens: Token[] = [];
  private pending = new Map<boolean, Promise<Token>>();

  constructor(
    private readonly orgUrl: string,
    private readonly clientId: string,
    private readonly key: SigningKey,
    private readonly scopes: { read: string[]; write: string[] },
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {}

  async header(write: boolean): Promise<string> {
    const now = this.clock.now();
    this.tokens = this.tokens.filter((t) => t.expiresAt > now);
    const held = this.tokens.find((t) => t.write || !write);
    if (held) return `Bearer ${held.value}`;
    let pending = this.pending.get(write);
    if (!pending) {
      pending = this.fetchToken(write).finally(() => this.pending.delete(write));
      this.pending.set(write, pending);
    }
    const token = await pending;
    return `Bearer ${token.value}`;
  }

  private async fetchToken(write: boolean): Promise<Token> {
    const endpoint = `${this.orgUrl.replace(/\/+$/, '')}/oauth2/v1/token`;
    const scope = (write ? this.scopes.write : this.scopes.read).join(' ');
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion(this.clientId, endpoint, this.key, this.clock.now()),
    });
    this.requests++;
    const what = `getting an access token for service app ${this.clientId} (${scope})`;
    const { response, text } = await fetchWithDeadline(
      endpoint,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
      },
      this.timeoutMs,
      what,
    );
    let data: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } =
      {};
    try {
      data = JSON.parse(text) as typeof data;
    } catch {
      data = {};
    }
    if (response.status === 429 || response.status >= 500)
      throw new TransientError(`${what}: Okta answered ${response.status}`);
    if (!response.ok || typeof data.access_token !== 'string') {
      const error = typeof data.error === 'string' ? data.error : `HTTP ${response.status}`;
      const detail = typeof data.error_description === 'string' ? `: ${data.error_description}` : '';
      throw new AppStoppedError(`${what}: Okta refused (${error}${detail}); ${fix(error, scope)}`);
    }
    const seconds = typeof data.expires_in === 'number' ? data.expires_in : 3600;
    const token = {
      value: data.access_token,
      expiresAt: this.clock.now() + Math.max(0, seconds - 60) * 1000,
      write,
    };
    this.tokens.push(token);
    return token;
  }
}

function fix(error: string, scope: string): string {
  if (error === 'invalid_scope')
    return `grant the service app these scopes in Okta (Okta API Scopes tab): ${scope}`;
  if (error === 'invalid_dpop_proof' || error === 'use_dpop_nonce')
    return "iden does not send DPoP proofs: turn off 'Require Demonstrating Proof of Possession' on the service app";
  return 'check the client id, and that the service app has the public key of this private key (and its kid, if several)';
}

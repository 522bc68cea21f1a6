import { createHash, createPrivateKey, type KeyObject, randomUUID, sign, X509Certificate } from 'node:crypto';
import type { Clock } from '../../model/clock.js';
import { fetchWithDeadline, retryAfterMs } from '../http.js';
import { TransientError } from '../types.js';

/** Entra refused the app's credentials, or they cannot be read: nothing can succeed until someone fixes them. */
export class CredentialsRefused extends Error {
  override readonly name = 'CredentialsRefused';
}

/** A certificate uploaded to the app registration and its private key: what signs a client assertion. */
export interface Certificate {
  key: KeyObject;
  /** x5t: the certificate's SHA-1 thumbprint, base64url, as Entra knows the certificate by it. */
  thumbprint: string;
}

export interface Credentials {
  tenantId: string;
  clientId: string;
  tokenUrl: string;
  scope: string;
  /** The variable that holds the secret or certificate: what people are told to check (never its value). */
  variable: string;
  secret?: string;
  certificate?: Certificate;
}

/** The certificate and its private key from one PEM; a message that names the variable, never its content. */
export function readCertificate(pem: string, variable: string): Certificate {
  let certificate: X509Certificate;
  let key: KeyObject;
  try {
    certificate = new X509Certificate(pem);
    key = createPrivateKey(pem);
  } catch (e) {
    throw new CredentialsRefused(
      `${variable} does not hold a PEM certificate and its private key (${(e as Error).message})`,
    );
  }
  if (key.asymmetricKeyType !== 'rsa')
    throw new CredentialsRefused(
      `the private key in ${variable} is ${key.asymmetricKeyType}: Entra signs RS256 only`,
    );
  if (!certificate.checkPrivateKey(key))
    throw new CredentialsRefused(`the private key in ${variable} is not the key of its certificate`);
  return { key, thumbprint: createHash('sha1').update(certificate.raw).digest('base64url') };
}

const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A client assertion (RFC 7523) as Entra asks for one: RS256, the
 * certificate's thumbprint as x5t, the token endpoint as audience, the app
 * as issuer and subject, valid for ten minutes from `now`.
 */
export function clientAssertion(credentials: Credentials, certificate: Certificate, now: number): string {
  const seconds = Math.floor(now / 1000);
  const data = `${encode({ alg: 'RS256', typ: 'JWT', x5t: certificate.thumbprint })}.${encode({
    aud: credentials.tokenUrl,
    iss: credentials.clientId,
    sub: credentials.clientId,
    jti: randomUUID(),
    nbf: seconds,
    iat: seconds,
    exp: seconds + 600,
  })}`;
  return `${data}.${sign('sha256', Buffer.from(data), certificate.key).toString('base64url')}`;
}

interface TokenReply {
  access_token?: string;
  expires_in?: number | string;
  error?: string;
  error_description?: string;
  error_codes?: number[];
}

/**
 * Client-credentials tokens for Graph, kept until five minutes before they
 * expire. A refusal (400, 401) is CredentialsRefused with Entra's AADSTS
 * code and what to check; a 429 or 5xx is transient. It retries nothing.
 */
export class TokenSource {
  requests = 0;
  private current: { token: string; until: number } | undefined;

  constructor(
    private readonly credentials: Credentials,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {}

  /** The token is refused by Graph (401): the next call asks for a new one. */
  forget(): void {
    this.current = undefined;
  }

  async token(): Promise<string> {
    const now = this.clock.now();
    if (this.current && now < this.current.until) return this.current.token;
    const { credentials: c } = this;
    const form = new URLSearchParams({
      client_id: c.clientId,
      scope: c.scope,
      grant_type: 'client_credentials',
    });
    if (c.certificate) {
      form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      form.set('client_assertion', clientAssertion(c, c.certificate, now));
    } else form.set('client_secret', c.secret ?? '');
    const what = `asking ${new URL(c.tokenUrl).host} for a token`;
    this.requests++;
    const { response, text } = await fetchWithDeadline(
      c.tokenUrl,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
      },
      this.timeoutMs,
      what,
    );
    let reply: TokenReply = {};
    try {
      reply = JSON.parse(text) as TokenReply;
    } catch {
      // An outage page: judged by its status below.
    }
    if (response.ok && typeof reply.access_token === 'string') {
      const life = Number(reply.expires_in) > 0 ? Number(reply.expires_in) * 1000 : 3_600_000;
      this.current = { token: reply.access_token, until: now + life - Math.min(300_000, life / 2) };
      return reply.access_token;
    }
    const said = this.redact(firstLine(reply.error_description) ?? response.statusText);
    if (response.status === 429 || response.status >= 500)
      throw new TransientError(
        `${what}: ${response.status} ${reply.error ?? ''} ${said}`.replace(/ +/g, ' '),
        retryAfterMs(response.headers.get('retry-after'), this.clock.now()),
      );
    const code = reply.error_codes?.[0] ?? Number(/AADSTS(\d+)/.exec(said)?.[1]);
    throw new CredentialsRefused(
      `Entra refused the credentials of app ${c.clientId} in tenant ${c.tenantId} (${response.status} ${reply.error ?? 'error'}: ${said}); ${hint(code, c)}`,
    );
  }

  /** Entra never echoes a secret; should any text ever hold it, it is not repeated. */
  private redact(text: string): string {
    const secret = this.credentials.secret;
    return secret && secret.length >= 4 ? text.split(secret).join('***') : text;
  }
}

/** The description's first line: Entra appends trace and correlation ids after a line break. */
function firstLine(text: string | undefined): string | undefined {
  return text?.split(/\r?\n/)[0]?.trim() || undefined;
}

/** What to check, by AADSTS code. */
function hint(code: number, c: Credentials): string {
  switch (code) {
    case 7000215:
      return `${c.variable} holds no valid client secret of the app (give the secret's Value, not its Secret ID)`;
    case 7000222:
      return `the client secret in ${c.variable} has expired: add a new one to the app registration`;
    case 700027:
    case 700023:
      return `the certificate in ${c.variable} is not one uploaded to the app registration (Certificates & secrets)`;
    case 700024:
      return "the client assertion's times were refused: is this machine's clock right?";
    case 700016:
      return `there is no app with client id ${c.clientId} in tenant ${c.tenantId}: check clientId and tenantId`;
    case 90002:
      return `there is no tenant ${c.tenantId}: check tenantId`;
    default:
      return `check tenantId, clientId and ${c.variable}`;
  }
}

import { ResultCodeError } from 'ldapts';
import type { Config } from './config.js';

/** The directory could not be reached, or would not let iden in: nothing can be read or written now. */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
  constructor(
    message: string,
    /** The server answered and refused (a wrong password, TLS required): trying again will not help. */
    readonly refused: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The server sent part of a read elsewhere (a referral or continuation reference): iden does not follow them. */
export class ReferralError extends Error {
  override readonly name = 'ReferralError';
}

const NAMES: Record<number, string> = {
  3: 'timeLimitExceeded',
  4: 'sizeLimitExceeded',
  8: 'strongerAuthRequired',
  10: 'referral',
  11: 'adminLimitExceeded',
  13: 'confidentialityRequired',
  16: 'noSuchAttribute',
  19: 'constraintViolation',
  20: 'attributeOrValueExists',
  21: 'invalidAttributeSyntax',
  32: 'noSuchObject',
  34: 'invalidDNSyntax',
  49: 'invalidCredentials',
  50: 'insufficientAccessRights',
  51: 'busy',
  52: 'unavailable',
  53: 'unwillingToPerform',
  65: 'objectClassViolation',
  68: 'entryAlreadyExists',
};

/** The LDAP result code of a server's answer, or undefined for anything else (a dropped connection). */
export function resultCode(e: unknown): number | undefined {
  return e instanceof ResultCodeError ? e.code : undefined;
}

/** What the server said, with its result code and name: `LDAP 50 insufficientAccessRights: …`. */
export function describe(e: unknown): string {
  const code = resultCode(e);
  // ldapts ends a server's message with the code in hex (" Code: 0x41"); the name says it better.
  // One line: ldapts joins a socket's error to its own with a line break.
  const message = ((e as Error)?.message ?? String(e))
    .replace(/\s*Code: 0x[0-9a-f]+$/i, '')
    .replace(/\s*\n\s*/g, '; ')
    .trim();
  if (code === undefined) return message;
  return `LDAP ${code} ${NAMES[code] ?? 'error'}${message ? `: ${message}` : ''}`;
}

// How ldapts and Node say a connection dropped or a request went unanswered.
const DROPPED = /Connection closed|Socket|timed out|Connection timeout|no answer within/;
const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * The server is busy or going away, or the connection dropped or timed out:
 * the same request may work again. Anything else (a fault of iden's own
 * included) is not retried.
 */
export function passing(e: unknown): boolean {
  const code = resultCode(e);
  if (code !== undefined) return code === 51 || code === 52;
  const error = e as { code?: string; message?: string };
  return NETWORK.has(error?.code ?? '') || DROPPED.test(error?.message ?? '');
}

/** Why connecting, StartTLS or the bind failed, with what would fix it. */
export function unreachable(e: unknown, step: string, config: Config): UnreachableError {
  const code = resultCode(e);
  const text = describe(e);
  const tlsCode = (e as { code?: string }).code ?? '';
  if (code === 49)
    return new UnreachableError(
      `${step}: ${text}; check the DN in $${config.bindDnEnv} and the password in $${config.bindPasswordEnv}`,
      true,
      { cause: e },
    );
  if (code === 8 || code === 13)
    return new UnreachableError(
      `${step}: ${text}; the server wants an encrypted connection: use ldaps:// or startTls: true`,
      true,
      { cause: e },
    );
  if (code !== undefined) return new UnreachableError(`${step}: ${text}`, true, { cause: e });
  if (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ALTNAME/.test(tlsCode))
    return new UnreachableError(
      `${step}: the server's certificate is not trusted (${text}); set caFile to the PEM of the authority that signed it, and reach the server by a name its certificate holds`,
      true,
      { cause: e },
    );
  return new UnreachableError(`${step}: ${text}`, false, { cause: e });
}

import { AppStoppedError, TerminalError, TransientError } from '../types.js';

interface SdkError extends Error {
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $response?: { headers?: Record<string, string | undefined> };
  $fault?: 'client' | 'server';
  RetryAfterSeconds?: number;
  code?: string;
}

/** Refusals of the credentials themselves: nothing else will work this run. */
const CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredTokenException',
  'ExpiredToken',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'CredentialsProviderError',
]);

/** A failed call as people read it: AWS's error name, the HTTP status and its message (never a credential). */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const error = e as SdkError;
  const status = error.$metadata?.httpStatusCode;
  const name = error.name && error.name !== 'Error' ? error.name : undefined;
  const message = error.message && error.message !== name ? error.message : undefined;
  return [
    name,
    status ? `(HTTP ${status})` : undefined,
    message ? `${name || status ? ': ' : ''}${message}` : undefined,
  ]
    .filter((p) => p !== undefined)
    .join(' ')
    .replace(' : ', ': ');
}

/** How long AWS asked to wait: identitystore's RetryAfterSeconds, else a Retry-After header. */
function retryAfter(error: SdkError): number | undefined {
  if (typeof error.RetryAfterSeconds === 'number' && error.RetryAfterSeconds > 0)
    return error.RetryAfterSeconds * 1000;
  const header = Number(error.$response?.headers?.['retry-after']);
  return Number.isFinite(header) && header > 0 ? header * 1000 : undefined;
}

/** Whether AWS said the thing named does not exist. */
export function notFound(e: unknown): boolean {
  return e instanceof Error && e.name === 'ResourceNotFoundException';
}

/** Whether AWS refused a write because it is already so (a membership that exists). */
export function alreadyExists(e: unknown): boolean {
  if (!(e instanceof Error) || e.name !== 'ConflictException') return false;
  const reason = (e as { Reason?: string }).Reason;
  return (
    reason === 'UNIQUENESS_CONSTRAINT_VIOLATION' ||
    (reason === undefined && /already exists/i.test(e.message))
  );
}

/**
 * The SDK's errors in the connector contract's terms: throttling, AWS's
 * server errors, timeouts and dropped connections are transient (with AWS's
 * wait where it gives one); refused credentials stop the app; the rest fail
 * the change, with what was being done.
 */
export function translate(e: unknown, what: string): Error {
  if (e instanceof TerminalError || e instanceof TransientError) return e;
  const error = e as SdkError;
  const status = error.$metadata?.httpStatusCode;
  const text = `${what}: ${describeError(e)}`;
  if (CREDENTIALS.has(error.name))
    return new AppStoppedError(
      `${text}; AWS refused iden's credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the profile or role iden runs as) and the Region`,
      { cause: e },
    );
  if (
    error.name === 'ThrottlingException' ||
    // Another change to the same thing under way (an assignment in progress, a concurrent edit): it passes.
    error.name === 'ConflictException' ||
    error.name === 'InternalServerException' ||
    error.name === 'TimeoutError' ||
    error.$fault === 'server' ||
    (status !== undefined && (status === 429 || status >= 500)) ||
    // No answer at all: a refused or dropped connection.
    (status === undefined && error.code !== undefined)
  )
    return new TransientError(text, retryAfter(error), { cause: e });
  if (error.name === 'AccessDeniedException')
    return new TerminalError(
      `${text}; iden's role lacks a permission this needs (the connector's README lists the policy)`,
      { cause: e },
    );
  return new TerminalError(text, { cause: e });
}

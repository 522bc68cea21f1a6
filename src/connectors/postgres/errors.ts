import { AppStoppedError, ObserveError, TerminalError, TransientError } from '../types.js';
import { EmbeddedStoppedError } from './embedded.js';

// Connection trouble (08, admin shutdown and crash recovery 57P0x, iden's own watchdog), too many
// connections, serialisation conflicts, a concurrent creation of the same role, and a statement
// cancelled by iden's own timeouts (lock_timeout 55P03, statement_timeout 57014) pass; a full disk
// (53100) and lack of memory stop the app.
const TRANSIENT_SQLSTATE = /^(08|53300|57P0|57014|55P03|40001|40P01|23505|42710)/;
const STOPPING_SQLSTATE = /^(53100|53200|58030|25006)/;
const TRANSIENT_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'IDEN_NO_ANSWER',
]);
/** What pg says when the server closes a connection or a connect times out (no SQLSTATE, no errno). */
const LOST =
  /Connection terminated|timeout expired|Client has encountered a connection error|Connection ended/i;

export interface Timeouts {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
}

/** Why a statement was cancelled, in the words of the setting that changes it. */
function timedOut(code: string | undefined, timeouts: Timeouts | undefined): string | undefined {
  if (!timeouts) return undefined;
  if (code === '55P03')
    return `another session held a lock it needed for longer than lockTimeoutMs (${timeouts.lockTimeoutMs} ms): an open transaction of someone else's? End it, or raise lockTimeoutMs`;
  if (code === '57014')
    return `it took longer than statementTimeoutMs (${timeouts.statementTimeoutMs} ms): raise statementTimeoutMs if the server is that slow`;
  return undefined;
}

/**
 * A write of a batch of accounts failed: its transaction was rolled back
 * whole, and its accounts are taken one at a time to find whose it was.
 */
export class BatchFailed extends Error {
  override readonly name = 'BatchFailed';
}

/**
 * A statement the server refused (it answered with a SQLSTATE outside
 * class 08 and the shutdown codes), as opposed to a connection that is gone,
 * after which nothing is worth trying statement by statement.
 */
export function statementFailed(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57P0)/.test(code);
}

/** A failed statement of a step, as the retry layer reads it: transient, terminal, or the app stopped. */
export function classify(e: unknown, what: string, timeouts?: Timeouts): Error {
  if (e instanceof TerminalError || e instanceof TransientError || e instanceof BatchFailed) return e;
  if (e instanceof EmbeddedStoppedError) return new AppStoppedError(`${what}: ${e.message}`, { cause: e });
  const { code, message } = e as { code?: string; message?: string };
  const why = timedOut(code, timeouts);
  const text = `${what}: ${message ?? String(e)}${code && /^[0-9A-Z]{5}$/.test(code) ? ` (SQLSTATE ${code})` : ''}${why ? `; ${why}` : ''}`;
  if (code && STOPPING_SQLSTATE.test(code)) return new AppStoppedError(text, { cause: e });
  if (
    (code && (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_ERRNO.has(code))) ||
    /concurrently updated/i.test(text) ||
    LOST.test(message ?? '')
  ) {
    return new TransientError(text, undefined, { cause: e });
  }
  return new TerminalError(text, { cause: e });
}

/** Refusals a moment later may not repeat: too many clients, a server starting or stopping, a connection refused or reset. */
const REFUSED_SQLSTATE = new Set(['53300', '57P03']);
const REFUSED_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET']);

/**
 * A failure to open the database: a refusal that passes is a TransientError
 * (prepare tries the open again); anything else (a wrong password, a database
 * that does not exist, no access) an ObserveError that skips the app.
 */
export function openError(e: unknown, what: string): Error {
  if (e instanceof ObserveError || e instanceof TransientError) return e;
  const { code, message } = e as { code?: string; message?: string };
  const text = `${what}: ${message ?? String(e)}${code ? ` (${/^[0-9A-Z]{5}$/.test(code) ? 'SQLSTATE ' : ''}${code})` : ''}`;
  if (code && (REFUSED_SQLSTATE.has(code) || REFUSED_ERRNO.has(code)))
    return new TransientError(text, undefined, { cause: e });
  return new ObserveError(text, { cause: e });
}

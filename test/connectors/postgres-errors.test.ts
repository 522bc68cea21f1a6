import { describe, expect, it } from 'vitest';
import { classify, openError } from '../../src/connectors/postgres/errors.js';
import { AppStoppedError, ObserveError, TerminalError, TransientError } from '../../src/connectors/types.js';

const failure = (code: string | undefined, message = 'it failed') =>
  Object.assign(new Error(message), { code });
const timeouts = { statementTimeoutMs: 30_000, lockTimeoutMs: 10_000 };

describe("the postgres connector's reading of failures", () => {
  it.each([
    ['53300', TransientError],
    ['57P03', TransientError],
    ['ECONNREFUSED', TransientError],
    ['ECONNRESET', TransientError],
    ['28P01', ObserveError],
    ['3D000', ObserveError],
    ['ENOTFOUND', ObserveError],
    [undefined, ObserveError],
  ])('opening: %s is a %o', (code, kind) => {
    expect(openError(failure(code), 'cannot open the database')).toBeInstanceOf(kind);
  });

  it.each([
    ['55P03', TransientError, /lockTimeoutMs \(10000 ms\)/],
    ['57014', TransientError, /statementTimeoutMs \(30000 ms\)/],
    ['57P01', TransientError, /SQLSTATE 57P01/],
    ['08006', TransientError, /SQLSTATE 08006/],
    ['IDEN_NO_ANSWER', TransientError, /it failed$/],
    [undefined, TransientError, /Connection terminated unexpectedly/],
    ['53100', AppStoppedError, /SQLSTATE 53100/],
    ['42501', TerminalError, /SQLSTATE 42501/],
  ])('a step: %s is a %o', (code, kind, text) => {
    const message = code === undefined ? 'Connection terminated unexpectedly' : 'it failed';
    const error = classify(failure(code, message), 'granting roles to alice', timeouts);
    expect(error).toBeInstanceOf(kind);
    expect(error.message).toMatch(/^granting roles to alice: /);
    expect(error.message).toMatch(text);
  });
});

/**
 * Role membership in PostgreSQL, split as the connector is read: open (a
 * server or the embedded database), lock (the run's advisory lock), session,
 * observe (who holds what, and what iden may touch), steps (grants and
 * revocations), errors (what is retried, what stops the app).
 */
export { ADVISORY_KEY } from './lock.js';
export { OWNED } from './observe.js';
export { open } from './open.js';

/**
 * The string formats iden's run-time schemas use (plan.schema.json), checked
 * rather than ignored: without them ajv warns "unknown format" on the console
 * at each compile, and lets any string through.
 */
export const FORMATS = {
  // RFC 3339: a date, a time, and a Z or ±HH:MM offset; and a real instant.
  'date-time': (text: string) =>
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(text) &&
    !Number.isNaN(Date.parse(text)),
};

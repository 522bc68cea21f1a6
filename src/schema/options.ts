/** ajv's options for every schema iden checks, at build time (scripts/gen-validators.mjs) and at run time alike. */
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: true, strictRequired: false } as const;

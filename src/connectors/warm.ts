/**
 * What connectors keep open between the runs of one long-lived process
 * (`iden serve`), where opening is the slow part: an embedded database's
 * thread, say. Taken by the next run that opens the same thing; closed when
 * the process stops. Nothing here outlives its process or is shared between
 * processes: the run's locks still come and go with each run.
 */
const kept = new Map<string, { value: unknown; close: () => Promise<void> }>();

/** Takes what an earlier run kept under `key`, if anything. */
export function takeWarm<T>(key: string): T | undefined {
  const found = kept.get(key);
  kept.delete(key);
  return found?.value as T | undefined;
}

/** Keeps `value` for the next run; `close` ends it when the process stops. */
export function keepWarm(key: string, value: unknown, close: () => Promise<void>): void {
  const before = kept.get(key);
  kept.set(key, { value, close });
  if (before && before.value !== value) void before.close().catch(() => undefined);
}

/** Closes everything kept. */
export async function closeWarm(): Promise<void> {
  const all = [...kept.values()];
  kept.clear();
  await Promise.all(all.map((k) => k.close().catch(() => undefined)));
}

// The in-process apps of plan-steady-child.mjs moved to a process of their own, so the plan's
// peak memory is iden's alone: filled from the file plan-child.mjs kept (argv[2], a JSON array
// a line), it answers each app's observe with what that app holds, over IPC.
import { readFileSync } from 'node:fs';

const stores = new Map();
for (const line of readFileSync(process.argv[2], 'utf8').split('\n')) {
  if (!line) continue;
  const [app, account, entitlement, license] = JSON.parse(line);
  if (!stores.has(app)) stores.set(app, []);
  stores.get(app).push({ account, ...(entitlement ? { entitlement } : { license }) });
}
process.on('message', ({ id, app }) => process.send({ id, held: stores.get(app) ?? [] }));
process.send({ ready: true });

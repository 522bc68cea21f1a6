// A plan in steady state in a process of its own: the apps hold what plan-child.mjs left them
// holding (argv[3], a JSON array a line) in a process of their own (apps-process.mjs), and one
// plan is timed. Prints JSON {ms, rssMb, changes, drift}: the peak memory is this process's, iden's.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { benchConnector } from './memory-connector.mjs';
import { timedPlan } from './timed-plan.mjs';

const [root, kept] = process.argv.slice(2);
// The apps hold their assignments in a process of their own (apps-process.mjs): this one's peak is iden's.
const apps = fork(join(import.meta.dirname, 'apps-process.mjs'), [kept], { serialization: 'advanced' });
const waiting = new Map();
let next = 0;
apps.on('message', (m) => {
  if (m.ready) return waiting.get('ready')?.();
  waiting.get(m.id)?.(m.held);
  waiting.delete(m.id);
});
await new Promise((resolve) => waiting.set('ready', resolve));
const ask = (app) =>
  new Promise((resolve) => {
    const id = next++;
    waiting.set(id, resolve);
    apps.send({ id, app });
  });
const connector = benchConnector({
  async open(app) {
    return { concurrency: 8, observe: () => ask(app.id), steps: () => [], async close() {} };
  },
});
const figures = await timedPlan(root, connector);
apps.kill();
console.log(JSON.stringify(figures));

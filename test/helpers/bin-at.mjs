// The built CLI as bin.js runs it, but with its clock starting at
// IDEN_TEST_NOW (ISO 8601) and moving on in real time: how tests run iden in
// a child process (on a pseudo-terminal, say) without reading the calendar.
import { main } from '../../dist/src/cli/main.js';
import { processIo } from '../../dist/src/cli/process-io.js';

const start = Date.parse(process.env.IDEN_TEST_NOW ?? '');
if (Number.isNaN(start)) throw new Error('IDEN_TEST_NOW must be an ISO 8601 instant');
const offset = start - Date.now();
const clock = {
  now: () => Date.now() + offset,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
  at(at, fire) {
    const handle = setTimeout(fire, Math.max(0, at - (Date.now() + offset)));
    return { cancel: () => clearTimeout(handle) };
  },
};
process.exitCode = await main(process.argv.slice(2), processIo(clock));

// One iden audit as the CLI runs it: main() with its arguments, on the system
// clock, output discarded. Prints JSON {ms, rssMb, code}.
import { main } from '../dist/src/cli/main.js';
import { systemClock } from '../dist/src/model/clock.js';

const started = performance.now();
const code = await main(process.argv.slice(2), {
  stdout: () => undefined,
  stderr: () => undefined,
  env: {},
  cwd: process.cwd(),
  interactive: false,
  confirm: async () => false,
  clock: systemClock,
});
const ms = performance.now() - started;
console.log(JSON.stringify({ ms, rssMb: process.resourceUsage().maxRSS / 1024, code }));

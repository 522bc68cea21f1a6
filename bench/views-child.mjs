// Runs one iden command in its own process, the way the CLI does (output
// discarded, no terminal, the system clock), and prints JSON {ms, rssMb, code}.
import { main } from '../dist/src/cli/main.js';
import { systemClock } from '../dist/src/model/clock.js';

const args = process.argv.slice(2);
const started = performance.now();
const code = await main(args, {
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

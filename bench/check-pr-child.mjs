// Runs `iden check-pr` on a repository's `pr` branch against `main` in its own
// process, the way the CLI does, and prints JSON {ms, rssMb, code}.
import { main } from '../dist/src/cli/main.js';

const [dir, author] = process.argv.slice(2);
const started = performance.now();
let out = '';
const code = await main(
  ['check-pr', '--repo', dir, '--base', 'main', '--head', 'pr', '--author', author, '--format', 'json'],
  {
    stdout: (t) => {
      out += t;
    },
    stderr: () => undefined,
    env: {},
    cwd: dir,
    interactive: false,
    confirm: async () => false,
  },
);
const ms = performance.now() - started;
const files = JSON.parse(out).files.length;
console.log(JSON.stringify({ ms, rssMb: process.resourceUsage().maxRSS / 1024, code, files }));

// Runs `iden grant --no-pr --yes` for one person and app of a repository in
// its own process, the way the CLI does, and prints JSON {ms, rssMb, code}.
import { main } from '../dist/src/cli/main.js';

const [dir, as] = process.argv.slice(2);
const started = performance.now();
const code = await main(
  [
    ...['grant', '--repo', dir, '--app', 'app-000', '--user', 'person-09998', '--permission', 'ent-1'],
    ...['--license', 'standard', '--no-pr', '--yes', '--as', as, '--branch', 'bench-grant'],
  ],
  {
    stdout: () => undefined,
    stderr: () => undefined,
    env: {},
    cwd: dir,
    interactive: false,
    confirm: async () => false,
  },
);
const ms = performance.now() - started;
console.log(JSON.stringify({ ms, rssMb: process.resourceUsage().maxRSS / 1024, code }));

// The built CLI's main, run once per command line of a JSON list (argv[2]) in
// one process, as bin.js would run each: several runs of the build for the
// start-up cost of one. Prints a JSON list of { code, stdout, stderr }. The
// clock stands still at IDEN_TEST_NOW: these are runs that only read it.
import { main } from '../../dist/src/cli/main.js';

const now = Date.parse(process.env.IDEN_TEST_NOW ?? '');
if (Number.isNaN(now)) throw new Error('IDEN_TEST_NOW must be an ISO 8601 instant');
const clock = {
  now: () => now,
  sleep: async () => undefined,
  at: () => ({ cancel: () => undefined }),
};
const runs = [];
for (const args of JSON.parse(process.argv[2])) {
  let stdout = '';
  let stderr = '';
  const io = {
    clock,
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: {},
    cwd: process.cwd(),
    interactive: false,
    questions: async () => {
      throw new Error('no questions in a built run');
    },
  };
  runs.push({ code: await main(args, io), stdout, stderr });
}
process.stdout.write(JSON.stringify(runs));

// The floor for validate: merely read and parse every file of a repository
// with the yaml package, on one thread. Prints JSON {ms, rssMb, files}.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = join(process.argv[2], 'grants');
const started = performance.now();
let files = 0;
for (const entry of readdirSync(root, { withFileTypes: true })) {
  const path = join(root, entry.name);
  const names = entry.isDirectory() ? readdirSync(path).map((n) => join(path, n)) : [path];
  for (const file of names) {
    parse(readFileSync(file, 'utf8'));
    files++;
  }
}
const ms = performance.now() - started;
console.log(JSON.stringify({ ms, rssMb: process.resourceUsage().maxRSS / 1024, files }));

// The files of a written report: how many, their bytes, and the largest page (a file the browser
// loads: the report's list of what it wrote, .iden-report.json, is reported on its own).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = process.argv[2];
let files = 0;
let bytes = 0;
let largest = 0;
let largestPath = '';
let manifest = 0;
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) walk(path);
    else {
      const size = statSync(path).size;
      files++;
      bytes += size;
      if (e.name === '.iden-report.json' && dir === root) manifest = size;
      else if (size > largest) [largest, largestPath] = [size, relative(root, path)];
    }
  }
};
walk(root);
console.log(JSON.stringify({ files, bytes, largest, largestPath, manifest }));

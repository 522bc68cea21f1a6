// npm run pack: the package tarball as a new team installs it (see src/flow/pack.ts), written
// into the current folder, or the folder given. Needs a build (npm run pack builds first).
import { resolve } from 'node:path';
import { packIden } from '../dist/src/flow/pack.js';
import { packageRoot } from '../dist/src/util/package-root.js';

const tarball = await packIden(packageRoot(), resolve(process.argv[2] ?? '.'));
process.stdout.write(`${tarball}\n`);

import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What a team installs: the built CLI, schemas, workflows, the connectors' READMEs, the docs and the licence. */
export const PACKAGE_FILES = [
  'dist/src',
  'schemas',
  '.github/workflows',
  'src/connectors/*/README.md',
  'docs/*.md',
  'README.md',
  'LICENSE',
];

interface PackageJson {
  name: string;
  version: string;
  [key: string]: unknown;
}

/**
 * The package.json a team installs: no scripts (no `prepare` build that would need
 * the sources and the development dependencies), no development dependencies.
 */
export function installablePackageJson(dev: PackageJson): PackageJson {
  const { scripts: _scripts, devDependencies: _dev, ...rest } = dev;
  return { ...rest, files: PACKAGE_FILES };
}

/**
 * Copies, from iden's package root (a checkout that was built, or an installed
 * package), what the package holds into `stage`: compiled JavaScript without
 * source maps and without the comments that point at them, whose sources a
 * package does not carry.
 */
export function stagePackage(root: string, stage: string): void {
  const copy = (from: string) => {
    if (existsSync(join(root, from))) cpSync(join(root, from), join(stage, from), { recursive: true });
  };
  const dist = join(root, 'dist/src');
  if (!existsSync(join(dist, 'cli/bin.js')))
    throw new Error(`iden is not built in ${root}: run npm run build`);
  for (const file of walk(dist)) {
    if (!file.endsWith('.js') && !file.endsWith('.json')) continue;
    const target = join(stage, 'dist/src', relative(dist, file));
    mkdirSync(join(target, '..'), { recursive: true });
    const text = readFileSync(file, 'utf8');
    writeFileSync(
      target,
      file.endsWith('.js') ? text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n') : text,
    );
  }
  for (const path of ['schemas', '.github/workflows', 'README.md', 'LICENSE']) copy(path);
  if (existsSync(join(root, 'docs')))
    for (const name of readdirSync(join(root, 'docs'))) if (name.endsWith('.md')) copy(join('docs', name));
  for (const connector of readdirSync(join(root, 'src/connectors'), { withFileTypes: true }))
    if (connector.isDirectory()) copy(join('src/connectors', connector.name, 'README.md'));
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  writeFileSync(
    join(stage, 'package.json'),
    `${JSON.stringify(installablePackageJson(manifest), null, 2)}\n`,
  );
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

/** Packs iden as a team installs it into `destination`; returns the tarball's path. */
export async function packIden(root: string, destination: string): Promise<string> {
  const stage = mkdtempSync(join(tmpdir(), 'iden-pack-'));
  try {
    stagePackage(root, stage);
    mkdirSync(destination, { recursive: true });
    const { stdout } = await run(
      'npm',
      ['pack', stage, '--pack-destination', destination, '--ignore-scripts', '--json', '--silent'],
      { env: { ...process.env, npm_config_update_notifier: 'false' }, maxBuffer: 64 * 1024 * 1024 },
    );
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    if (!packed) throw new Error('npm pack wrote nothing');
    return join(destination, packed.filename);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

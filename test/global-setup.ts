import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { TestProject } from 'vitest/node';

/**
 * PGlite's first start runs initdb, about five seconds. Tests start from a
 * copy of one freshly initialised data folder instead, made once per machine.
 */
export default async function setup(project: TestProject) {
  const dir = join(tmpdir(), 'iden-pglite-template-0.5.14');
  if (!existsSync(join(dir, '.complete'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const db = await PGlite.create(join(dir, 'data'));
    await db.close();
    writeFileSync(join(dir, '.complete'), '');
  }
  project.provide('pgliteTemplate', join(dir, 'data'));
  // Where templates that outlive a run are kept (a provisioned Samba domain controller): not the run's own folder.
  project.provide('systemTmpdir', tmpdir());

  // Every temporary folder the tests make (repositories, databases, servers'
  // data) goes under one folder of this run, removed when the run ends: a
  // suite of hundreds of git repositories must not fill the disk run by run.
  // In memory where the machine has a memory file system with room: the suite
  // writes thousands of small files (a 30 MB database folder copied per
  // embedded app), and a disk's journal made that a third of its system time.
  const run = mkdtempSync(join(memoryFolder() ?? tmpdir(), 'iden-tests-'));
  // Searchable by others, as the system temp folder is: a PostgreSQL server runs as its own user.
  chmodSync(run, 0o755);
  const before = process.env.TMPDIR;
  process.env.TMPDIR = run;
  // Removed without blocking: vitest is still waiting for its workers to exit meanwhile.
  return async () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    await rm(run, { recursive: true, force: true });
  };
}

/** /dev/shm when it is a writable folder with 4 GB free, else undefined. */
function memoryFolder(): string | undefined {
  try {
    accessSync('/dev/shm', constants.W_OK);
    const free = statfsSync('/dev/shm');
    return free.bavail * free.bsize >= 4 * 2 ** 30 ? '/dev/shm' : undefined;
  } catch {
    return undefined;
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
    systemTmpdir: string;
  }
}

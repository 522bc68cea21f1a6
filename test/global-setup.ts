import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}

import { createRequire } from 'node:module';

type Yaml = typeof import('yaml');
let loaded: Yaml | undefined;

/**
 * The `yaml` package, loaded when first asked for: most files iden reads take
 * the fast paths of load/fast-yaml.ts, and a command that meets none of
 * another shape (an audit of plain grant files and settings) never loads it
 * (some 60 ms of CPU time). The same module as `import … from 'yaml'` gives.
 */
export function yaml(): Yaml {
  loaded ??= createRequire(import.meta.url)('yaml') as Yaml;
  return loaded;
}

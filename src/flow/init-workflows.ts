/**
 * The workflows a new access repository gets, made from iden's own: on its
 * default branch, and carrying the secrets of its own apps only (none at
 * first), never the example's.
 */
export function workflowFor(
  template: string,
  options: { branch: string; secrets: readonly string[] },
): string {
  const lines: string[] = [];
  let inserted = false;
  for (const line of template.split('\n')) {
    const secret = /^(\s+)([A-Z][A-Z0-9_]*): \$\{\{ secrets\.[A-Z][A-Z0-9_]* \}\}$/.exec(line);
    // iden's own secrets stay; the example apps' go, and this repository's apps' come where they were.
    if (secret && !secret[2]!.startsWith('IDEN_')) {
      if (!inserted)
        for (const name of options.secrets) lines.push(`${secret[1]}${name}: \${{ secrets.${name} }}`);
      inserted = true;
      continue;
    }
    if (!secret && !/^\s*#/.test(line)) inserted = false;
    lines.push(
      line
        .replace(/^(\s+branches: )\[main\]$/, `$1[${options.branch}]`)
        .replace(/\b(a merge to|restrict it to) main\b/, `$1 ${options.branch}`),
    );
  }
  return lines.join('\n');
}

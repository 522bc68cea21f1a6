// iden as a process whose reader goes away (`iden access | head`): it stops
// writing, exits with its own code, and prints no stack trace.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../dist/src/cli/bin.js');

/** Runs the built CLI with its standard output closed before it writes; its exit code and standard error. */
function withStdoutClosed(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += String(d);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('iden writing to a closed pipe', () => {
  it('stops writing and exits with its own code, without a stack trace', async () => {
    const help = await withStdoutClosed(['--help']);
    expect(help).toEqual({ code: 0, stderr: '' });
    const typo = await withStdoutClosed(['audti']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('(Did you mean audit?)');
    expect(typo.stderr).not.toContain('EPIPE');
  });
});

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FRAME, frame, helperCommand } from '../../src/git/spawner.js';

/** Runs git in a test repository with a fixed identity and, when given, fixed dates. */
export function git(dir: string, args: string[], date = '2026-11-20T10:00:00Z'): string {
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'Alice Martin',
    GIT_AUTHOR_EMAIL: 'alice@example.com',
    GIT_COMMITTER_NAME: 'Alice Martin',
    GIT_COMMITTER_EMAIL: 'alice@example.com',
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_DATE: date,
  };
  const { code, stdout, stderr } = syncHelper().run({ file: 'git', args, cwd: dir, env });
  if (code !== 0) {
    const failed = new Error(`Command failed: git ${args.join(' ')}\n${stderr}`);
    Object.assign(failed, { status: code, stdout, stderr });
    throw failed;
  }
  return stdout;
}

/** Makes a folder a git repository with everything in it committed. */
export function commitAll(dir: string, message: string, date?: string): void {
  if (!gitExists(dir)) git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '--allow-empty', '-m', message], date);
}

function gitExists(dir: string): boolean {
  try {
    git(dir, ['rev-parse', '--git-dir']);
    return true;
  } catch {
    return false;
  }
}

/**
 * iden's git helper process (src/git/spawner.ts), asked synchronously over two
 * FIFOs: a test's git runs as iden's does, started by a small process rather
 * than forked from the test's worker of hundreds of megabytes (the suite
 * starts some 20,000 git processes).
 */
class SyncHelper {
  private readonly requests: number;
  private readonly answers: number;
  private next = 1;

  constructor() {
    const dir = mkdtempSync(join(tmpdir(), 'iden-git-helper-'));
    const requests = join(dir, 'requests');
    const answers = join(dir, 'answers');
    execFileSync('mkfifo', [requests, answers]);
    const command = helperCommand(requests, answers);
    spawn(command.file, command.args, { env: command.env, stdio: 'ignore' }).unref();
    // Each open waits for the helper to open the other end.
    this.requests = openSync(requests, 'w');
    this.answers = openSync(answers, 'r');
    rmSync(dir, { recursive: true, force: true });
  }

  run(request: { file: string; args: string[]; cwd: string; env: NodeJS.ProcessEnv }): {
    code: number | null;
    stdout: string;
    stderr: string;
  } {
    const id = this.next++;
    writeSync(
      this.requests,
      Buffer.concat([frame(FRAME.run, id, JSON.stringify(request)), frame(FRAME.end, id)]),
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    for (;;) {
      const head = this.read(9);
      const body = this.read(head.readUInt32BE(5));
      if (head.readUInt32BE(1) !== id) continue;
      if (head[0] === FRAME.stdout) out.push(body);
      else if (head[0] === FRAME.stderr) err.push(body);
      else if (head[0] === FRAME.exit) {
        const exit = JSON.parse(body.toString('utf8')) as { code: number | null; error?: string };
        const stderr = Buffer.concat(err).toString('utf8');
        return { code: exit.code, stdout: Buffer.concat(out).toString('utf8'), stderr: exit.error ?? stderr };
      }
    }
  }

  private read(length: number): Buffer {
    const buffer = Buffer.alloc(length);
    for (let at = 0; at < length; ) {
      const got = readSync(this.answers, buffer, at, length - at, null);
      if (got === 0) throw new Error('the git helper process ended');
      at += got;
    }
    return buffer;
  }
}

let helper: SyncHelper | undefined;

function syncHelper(): SyncHelper {
  helper ??= new SyncHelper();
  return helper;
}

import { type ChildProcess, spawn } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';

/**
 * Once iden holds much memory, the git processes it starts are started by a
 * small helper process, not by iden itself. Starting a process copies the
 * starting process's page tables, so its cost grows with the memory that
 * process holds: on this project's 2-core machine, 2 ms from a fresh Node,
 * 10–30 ms from a test worker of 150–500 MB, and far more from the gigabytes
 * a million grants take (the cost was 18% of a 100,000-grant plan). The
 * helper stays small, so each git costs what git costs. It is started once
 * per process, on first use, keeps no process alive on its own, ignores the
 * terminal's interrupt (git's own processes still get it, as before) and ends
 * when iden does. A process still small (DIRECT_BELOW) starts git itself: the
 * helper's own start (a Node, 50–70 ms) would cost more than it saves.
 *
 * Requests and answers are frames on the helper's stdin and stdout: a kind
 * byte, the request's number (32 bits), the payload's length (32 bits), the
 * payload. `helperMain` is the helper's whole program; it is also run by the
 * tests' synchronous git (over two FIFOs), hence its arguments.
 */

export const FRAME = { run: 1, input: 2, end: 3, kill: 4, stdout: 5, stderr: 6, exit: 7 } as const;

export interface RunRequest {
  file: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (ENOENT…). */
  error?: string;
}

/** The helper's program, run as `node -e`: reads frames from argv[1] (else stdin), answers on argv[2] (else stdout). */
export function helperMain(): void {
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const fs = require('node:fs') as typeof import('node:fs');
  const [, requests, answers] = process.argv;
  const input = requests ? fs.createReadStream(requests) : process.stdin;
  const output = answers ? fs.createWriteStream(answers) : process.stdout;
  const kinds = { run: 1, input: 2, end: 3, kill: 4, stdout: 5, stderr: 6, exit: 7 };
  const kids = new Map<number, import('node:child_process').ChildProcess>();
  const send = (kind: number, id: number, payload: Buffer) => {
    const head = Buffer.alloc(9);
    head[0] = kind;
    head.writeUInt32BE(id, 1);
    head.writeUInt32BE(payload.length, 5);
    output.write(payload.length ? Buffer.concat([head, payload]) : head);
  };
  const handle = (kind: number, id: number, body: Buffer) => {
    if (kind === kinds.run) {
      const asked = JSON.parse(body.toString('utf8'));
      const kid = spawn(asked.file, asked.args, { cwd: asked.cwd, env: asked.env });
      kids.set(id, kid);
      let error: string | undefined;
      kid.on('error', (e: NodeJS.ErrnoException) => {
        error = e.code ?? e.message;
      });
      kid.stdin?.on('error', () => {});
      kid.stdout?.on('data', (d: Buffer) => send(kinds.stdout, id, d));
      kid.stderr?.on('data', (d: Buffer) => send(kinds.stderr, id, d));
      kid.on('close', (code: number | null, signal: string | null) => {
        kids.delete(id);
        send(kinds.exit, id, Buffer.from(JSON.stringify({ code, signal, error })));
      });
    } else if (kind === kinds.input) kids.get(id)?.stdin?.write(Buffer.from(body));
    else if (kind === kinds.end) kids.get(id)?.stdin?.end();
    else if (kind === kinds.kill) kids.get(id)?.kill((body.toString() || 'SIGTERM') as NodeJS.Signals);
  };
  let pending: Buffer = Buffer.alloc(0);
  input.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 9) {
      const length = pending.readUInt32BE(5);
      if (pending.length < 9 + length) break;
      handle(pending[0]!, pending.readUInt32BE(1), pending.subarray(9, 9 + length));
      pending = pending.subarray(9 + length);
    }
  });
  input.on('end', () => process.exit(0));
  process.on('SIGINT', () => {});
}

/** A frame, as the helper reads it. */
export function frame(kind: number, id: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(9);
  head[0] = kind;
  head.writeUInt32BE(id, 1);
  head.writeUInt32BE(body.length, 5);
  return Buffer.concat([head, body]);
}

/** The helper's command line: Node itself, without the options the parent was started with. */
export function helperCommand(...args: string[]): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
  const { NODE_OPTIONS: _options, ...env } = process.env;
  return { file: process.execPath, args: ['-e', `(${helperMain.toString()})()`, ...args], env };
}

/** A process the helper started for us: its streams and its end. */
export interface HelpedProcess {
  stdin: Writable;
  stdout: PassThrough;
  stderr: PassThrough;
  /** Settles when the process has ended and its output has been read. */
  exited: Promise<Exit>;
  kill(signal?: NodeJS.Signals): void;
}

class Helper {
  readonly child: ChildProcess;
  private readonly live = new Map<number, { process: HelpedProcess; done: (exit: Exit) => void }>();
  private next = 1;
  private pending: Buffer = Buffer.alloc(0);

  constructor() {
    const command = helperCommand();
    this.child = spawn(command.file, command.args, { env: command.env, stdio: ['pipe', 'pipe', 'inherit'] });
    this.child.stdout!.on('data', (chunk: Buffer) => this.read(chunk));
    this.child.on('exit', () => this.lost('the git helper process ended'));
    this.child.on('error', (e) => this.lost(`the git helper process could not start: ${e.message}`));
    this.child.stdin!.on('error', () => {});
    this.idle();
  }

  start(request: RunRequest): HelpedProcess {
    const id = this.next++;
    const send = (kind: number, payload?: Buffer | string) =>
      this.child.stdin!.write(frame(kind, id, payload));
    let done!: (exit: Exit) => void;
    const exited = new Promise<Exit>((resolve) => {
      done = resolve;
    });
    const helped: HelpedProcess = {
      stdin: new Writable({
        write(chunk: Buffer, _encoding, callback) {
          send(FRAME.input, chunk);
          callback();
        },
        final(callback) {
          send(FRAME.end);
          callback();
        },
      }),
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      exited,
      kill: (signal = 'SIGTERM') => {
        if (this.live.has(id)) send(FRAME.kill, signal);
      },
    };
    this.live.set(id, { process: helped, done });
    this.busy();
    send(FRAME.run, JSON.stringify(request));
    return helped;
  }

  private read(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 9) {
      const length = this.pending.readUInt32BE(5);
      if (this.pending.length < 9 + length) return;
      const kind = this.pending[0]!;
      const id = this.pending.readUInt32BE(1);
      const body = this.pending.subarray(9, 9 + length);
      this.pending = this.pending.subarray(9 + length);
      const entry = this.live.get(id);
      if (!entry) continue;
      if (kind === FRAME.stdout) entry.process.stdout.write(body);
      else if (kind === FRAME.stderr) entry.process.stderr.write(body);
      else if (kind === FRAME.exit) {
        this.live.delete(id);
        entry.process.stdout.end();
        entry.process.stderr.end();
        entry.done(JSON.parse(body.toString('utf8')) as Exit);
        if (this.live.size === 0) this.idle();
      }
    }
  }

  /** The helper fails every process it was running; the next request starts a new one. */
  private lost(why: string): void {
    if (helper === this) helper = undefined;
    for (const [, entry] of this.live) {
      entry.process.stderr.end(`${why}\n`);
      entry.process.stdout.end();
      entry.done({ code: null, signal: null, error: why });
    }
    this.live.clear();
  }

  // Waiting on git keeps iden alive; an idle helper does not.
  private busy(): void {
    this.child.ref();
    (this.child.stdout as unknown as { ref(): void }).ref();
  }

  private idle(): void {
    this.child.unref();
    (this.child.stdout as unknown as { unref(): void }).unref();
    (this.child.stdin as unknown as { unref(): void }).unref();
  }
}

let helper: Helper | undefined;

/** The helper's process id while it runs (for diagnostics and tests). */
export function helperPid(): number | undefined {
  return helper?.child.pid;
}

/**
 * The resident size below which iden starts git itself: starting a process
 * from 50–240 MB took 1.7–4.3 ms here, far less than the helper's own start.
 */
const DIRECT_BELOW = 192 * 1024 * 1024;

/** How a process is started: through the helper, by iden itself, or (auto) by iden while it is small. */
export type StartBy = 'auto' | 'helper' | 'direct';

/** Starts `file` (git) through the helper process, or directly while this process is small. */
export function startHelped(request: RunRequest, by: StartBy = 'auto'): HelpedProcess {
  if (by === 'direct' || (by === 'auto' && small())) return startDirect(request);
  helper ??= new Helper();
  return helper.start(request);
}

/** Whether this process holds less than DIRECT_BELOW; where its size cannot be read, not (the helper is always right). */
function small(): boolean {
  try {
    return process.memoryUsage.rss() < DIRECT_BELOW;
  } catch {
    return false;
  }
}

/** A process started by this one, with the helper's interface and answers. */
function startDirect(request: RunRequest): HelpedProcess {
  const kid = spawn(request.file, request.args, { cwd: request.cwd, env: request.env });
  let error: string | undefined;
  kid.on('error', (e: NodeJS.ErrnoException) => {
    error = e.code ?? e.message;
  });
  kid.stdin.on('error', () => {});
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  kid.stdout.pipe(stdout);
  kid.stderr.pipe(stderr);
  const exited = new Promise<Exit>((resolve) => {
    kid.on('close', (code: number | null, signal: NodeJS.Signals | null) =>
      resolve({ code, signal, ...(error !== undefined ? { error } : {}) }),
    );
  });
  return {
    stdin: kid.stdin,
    stdout,
    stderr,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (kid.exitCode === null && kid.signalCode === null) kid.kill(signal);
    },
  };
}

/** Runs a command through the helper (or directly, startHelped) and collects its output. */
export async function runHelped(
  request: RunRequest,
  input?: string | Buffer,
  by: StartBy = 'auto',
): Promise<{ exit: Exit; stdout: Buffer; stderr: Buffer }> {
  const child = startHelped(request, by);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  child.stdin.end(input);
  const exit = await child.exited;
  return { exit, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

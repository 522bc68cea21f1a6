import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROWS } from '../../src/report/site.js';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { writeTree } from '../helpers/repo.js';
import { shown } from '../helpers/shown.js';

const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const PEOPLE = 1_200;

let out: string;
let browser: Awaited<ReturnType<typeof chromium.launch>>;

/** Every file of the report, by path relative to it, with its size. */
function files(dir: string): Map<string, number> {
  const all = new Map<string, number>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }))
      if (e.isDirectory()) walk(join(d, e.name));
      else all.set(relative(out, join(d, e.name)), statSync(join(d, e.name)).size);
  };
  walk(dir);
  return all;
}

beforeAll(async () => {
  // One app everyone has: more rows than a page holds, more people than one index file holds.
  const ids = Array.from({ length: PEOPLE }, (_, i) => `person-${String(i).padStart(4, '0')}`);
  const tree: Record<string, string> = {
    'grants/_settings.yaml': 'timezone: UTC\n',
    'grants/_people.yaml': `people:\n${ids.map((id) => `  - { id: ${id}, name: Person ${id.slice(7)}, email: ${id}@example.com }\n`).join('')}`,
    'grants/big/_app.yaml':
      'name: Big\nconnector: { type: postgres }\nentitlements:\n  - { id: read, kind: role, role: big_read }\n',
  };
  for (const id of ids) tree[`grants/big/${id}.yaml`] = `user: ${id}\napp: big\npermissions: [read]\n`;
  const dir = writeTree(tree);
  commitAll(dir, 'big');
  out = join(dir, 'site');
  const made = await runCli(['report', '--repo', dir, '--out', out, '--at', '2026-12-15']);
  expect(made.code, made.stderr).toBe(0);
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

async function open(path: string) {
  const page = await browser.newPage();
  const errors: string[] = [];
  const loaded: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('request', (r) => {
    if (r.url().includes('/search/')) loaded.push(r.url().split('/search/')[1]!);
  });
  await page.goto(pathToFileURL(join(out, path)).href);
  return { page, errors, loaded };
}

describe('a report larger than a page', () => {
  it('cuts long lists into pages that link to each other', async () => {
    const all = files(out);
    expect(all.has('more/apps/big/active-2.html')).toBe(true);
    expect(all.has('more/apps/big/active-3.html')).toBe(false);
    const { page, errors } = await open('apps/big.html');
    // The first table, who has access: its first page.
    expect(await page.locator('main table').first().locator('tbody tr').count()).toBe(ROWS);
    expect(await page.textContent('nav.pages')).toContain(`1–1,000 of ${PEOPLE.toLocaleString('en')}`);
    await page.locator('nav.pages a', { hasText: '2' }).first().click();
    await page.waitForURL(/active-2\.html$/);
    expect(await page.locator('main table tbody tr').count()).toBe(PEOPLE - ROWS);
    expect(await page.textContent('main table tbody tr:last-child')).toContain('person-1199');
    // Back to the first page, and to a person, from the second.
    await page.locator('main table a', { hasText: 'Person 1199' }).click();
    await page.waitForURL(/people\/person-1199\.html$/);
    expect(await page.textContent('h1')).toBe('Person 1199');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('searches through index files split by prefix, reading only those on the way', async () => {
    const all = files(out);
    const shards = [...all.keys()].filter((p) => p.startsWith('search/'));
    // No index file holds everyone.
    expect(Math.max(...shards.map((p) => all.get(p)!))).toBeLessThan(64_000);
    const { page, errors, loaded } = await open('index.html');
    const box = page.getByLabel('Search apps, people and access');
    await box.fill('p');
    await shown(page, 'about 1200 match', true);
    expect(await page.locator('#results tr').count()).toBe(50);
    for (const [typed, text] of [
      ['person-1', '100 of 200 shown'],
      ['person-119', '10 shown'],
      ['person-1199', '1 shown'],
      ['person-1199@example.com', '1 shown'],
      ['person 1199', '1 shown'],
    ] as const) {
      await box.fill(typed);
      await shown(page, text, true);
    }
    expect(await page.textContent('#results a')).toBe('Person 1199');
    // One file per level of the prefix tree on the way, each loaded once.
    expect(new Set(loaded).size).toBe(loaded.length);
    expect(loaded.length).toBeLessThan(15);
    expect(errors).toEqual([]);
    await page.close();
  });
});

import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/package-root.js';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { shown } from '../helpers/shown.js';

/** Debian's chromium, which .ci/run installs; CHROMIUM names another. */
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const HOSTILE = '<script>window.pwned=1</script>"><img src=x onerror="window.pwned=2">';

let out: string;
let browser: Awaited<ReturnType<typeof chromium.launch>>;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iden-report-'));
  cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
  // A person whose name is an attack on the page.
  const people = join(dir, 'grants/_people.yaml');
  writeFileSync(
    people,
    `${readFileSync(people, 'utf8')}  - id: ivan\n    name: ${JSON.stringify(HOSTILE)}\n    email: ivan@example.com\n`,
  );
  writeFileSync(
    join(dir, 'grants/analytics/ivan.yaml'),
    'user: ivan\napp: analytics\npermissions: [readonly]\n',
  );
  commitAll(dir, 'example and ivan');
  out = join(dir, 'site');
  const made = await runCli(['report', '--repo', dir, '--out', out, '--at', '2026-12-15']);
  expect(made.code, made.stderr).toBe(0);
  expect(existsSync(executablePath), `no browser at ${executablePath}: apt-get install chromium`).toBe(true);
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/** Opens a page of the report, recording console errors and every request that leaves its folder. */
async function open(path: string, viewport = { width: 1200, height: 900 }) {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  const outside: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith(pathToFileURL(out).href)) outside.push(r.url());
  });
  await page.goto(pathToFileURL(join(out, path)).href);
  return { page, errors, outside };
}

describe('the access report, in a real browser', () => {
  it.each(['index.html', 'apps/analytics.html', 'apps/github.html', 'people/grace.html', 'people/ivan.html'])(
    '%s loads with no console error and no request leaving its folder',
    async (path) => {
      const { page, errors, outside } = await open(path);
      expect(await page.locator('h1').count()).toBe(1);
      expect(await page.textContent('header')).toContain('Generated from commit');
      // Every link stays inside the report.
      for (const href of await page
        .locator('a')
        .evaluateAll((as) => as.map((a) => (a as unknown as { href: string }).href)))
        expect(href.startsWith(pathToFileURL(out).href), href).toBe(true);
      expect(errors).toEqual([]);
      expect(outside).toEqual([]);
      await page.close();
    },
  );

  it('finds apps and people as the visitor types, loading only the index files the query needs', async () => {
    const { page, errors, outside } = await open('index.html');
    const loaded: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/search/')) loaded.push(r.url().split('/search/')[1]!);
    });
    const results = () => page.locator('#results tr').allTextContents();
    expect(await results()).toEqual([]);
    // Every app is listed on the overview itself.
    expect(await page.locator('#apps ~ div a, section[aria-labelledby=apps] a').count()).toBeGreaterThan(2);
    await page.getByLabel('Search apps, people and access').fill('grace');
    await shown(page, '1 shown');
    expect(await results()).toEqual([expect.stringContaining('Grace Kim')]);
    // The app, then what can be granted in it (found by its app's name too).
    await page.getByLabel('Search apps, people and access').fill('salesforce');
    await shown(page, '7 shown');
    expect((await results()).map((t) => t.split(' ')[0])).toEqual([
      'AppSalesforce',
      'Accesssales-rep',
      'Accesssales-manager',
      'Accesssales-team',
      'Accessreports-export',
      'Accesssalesforce',
      'Accessplatform',
    ]);
    await page.getByLabel('Search apps, people and access').fill('grace@example.com');
    await shown(page, '1 shown');
    await page.getByLabel('Search apps, people and access').fill('nobody-here');
    await shown(page, '0 shown');
    // One small file per first letter here: g, s, n (the example is far under a split).
    expect(loaded.sort()).toEqual(['kg.js', 'kn.js', 'ks.js']);
    await page.getByLabel('Search apps, people and access').fill('');
    await shown(page, '');
    expect(await results()).toEqual([]);
    expect(errors).toEqual([]);
    expect(outside).toEqual([]);
    await page.close();
  });

  it('shows a hostile name as text, running nothing', async () => {
    const { page, errors } = await open('people/ivan.html');
    expect(await page.textContent('h1')).toBe(HOSTILE);
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    expect(await page.locator('main img, header img').count()).toBe(0);
    expect(errors).toEqual([]);
    const index = await open('index.html');
    await index.page.getByLabel('Search apps, people and access').fill('ivan');
    await shown(index.page, '1 shown');
    expect(await index.page.textContent('#results a')).toBe(HOSTILE);
    expect(await index.page.evaluate('window.pwned')).toBeUndefined();
    expect(index.errors).toEqual([]);
    await page.close();
    await index.page.close();
  });

  it('fits a phone, draws seat charts, and leaves screenshots for the README', async () => {
    const phone = await open('apps/github.html', { width: 390, height: 844 });
    const overflow = await phone.page.evaluate<number>(
      'document.documentElement.scrollWidth - window.innerWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await phone.page.locator('figure svg path.used').count()).toBe(2);
    await phone.page.close();

    const shots = join(packageRoot(), 'test-output');
    mkdirSync(shots, { recursive: true });
    const overview = await open('index.html', { width: 1100, height: 900 });
    await overview.page.screenshot({ path: join(shots, 'report-overview.png'), fullPage: true });
    await overview.page.close();
    const app = await open('apps/github.html', { width: 1100, height: 900 });
    await app.page.screenshot({ path: join(shots, 'report-app.png'), fullPage: true });
    await app.page.close();
    expect(readFileSync(join(shots, 'report-overview.png')).subarray(1, 4).toString()).toBe('PNG');
  });
});

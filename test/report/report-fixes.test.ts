// The report as a phone and a desktop show it (issue 29 item 14, issues 30
// and 31): in a real headless Chromium at 1280, 390 and 320 px wide.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { writeTree } from '../helpers/repo.js';
import { shown } from '../helpers/shown.js';

const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const WIDTHS = [1280, 390, 320];
const PAGES = ['index.html', 'apps/tools.html', 'people/alice.html', 'people/carol.html'];
/** A time of day with milliseconds, as a grant written "2w from now" to the millisecond has. */
const MILLIS = /\d:\d\d\.\d{3}/;

let out: string;
let browser: Awaited<ReturnType<typeof chromium.launch>>;

beforeAll(async () => {
  const dir = writeTree({
    'grants/_settings.yaml': 'timezone: Europe/Berlin\nroles:\n  super-admin: [alice]\n',
    'grants/_people.yaml': `people:
  - { id: alice, name: Alice Martin, email: alice@example.com, accounts: { github: alice-gh } }
  - { id: bob, name: Bob Stone, email: bob@example.com }
  - { id: carol, name: Carol Nguyen-Oppenheimer-Castellanos, email: carol.nguyen-oppenheimer-castellanos@subsidiary.example.com }
`,
    'grants/tools/_app.yaml': `name: Build tools
connector: { type: postgres }
entitlements:
  - { id: readonly, kind: role, role: tools_read, description: Read the build logs }
  - id: deploy-prod
    kind: role
    role: tools_deploy
    description: Deploy to production
    rule: { privileged: true, emergency: { maxDuration: PT4H } }
licenses:
  - { id: solo, seats: 1, role: tools_solo, description: The one floating licence }
  - { id: team, seats: 5, role: tools_team }
approvers: [alice]
review: { every: P90D }
`,
    // Ends to the millisecond, as a prompt's "2w from now" once wrote; holds the only seat of solo.
    'grants/tools/alice.yaml':
      'user: alice\napp: tools\npermissions: [readonly]\nlicense: solo\nend: 2027-01-20T05:10:03.985+01:00\nreason: Pager duty, OPS-7\n',
    'grants/tools/bob.yaml':
      'user: bob\napp: tools\npermissions: [deploy-prod]\nlicense: team\nreason: Release manager, REL-2\n',
    'grants/tools/carol.yaml':
      'user: carol\napp: tools\npermissions: [deploy-prod]\nlicense: team\nemergency: true\nstart: 2026-12-15T09:00:00Z\nend: 2026-12-15T12:00:00Z\nreason: Outage INC-99\n',
  });
  commitAll(dir, 'tools');
  out = join(dir, 'site');
  // An instant with milliseconds too: the header says when the report was made.
  const made = await runCli(['report', '--repo', dir, '--out', out, '--at', '2026-12-15T10:00:00.123Z']);
  expect(made.code, made.stderr).toBe(0);
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

async function open(path: string, width = 1280): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(pathToFileURL(join(out, path)).href);
  return { page, errors };
}

type Box = { x: number; y: number; width: number; height: number };
type Label = { text: string; size: number; box: Box };

/** Every text of the charts: its computed font size and the box it is drawn in. */
const labels = (page: Page, selector = 'section.chart svg text'): Promise<Label[]> =>
  page.locator(selector).evaluateAll((all) =>
    all.map((t) => {
      const r = t.getBoundingClientRect();
      return {
        text: t.textContent ?? '',
        size: Number.parseFloat(
          (globalThis as unknown as { getComputedStyle(e: unknown): { fontSize: string } }).getComputedStyle(
            t,
          ).fontSize,
        ),
        box: { x: r.x, y: r.y, width: r.width, height: r.height },
      };
    }),
  );

describe.each(WIDTHS)('the report %i px wide', (width) => {
  it.each(PAGES)('%s does not scroll sideways, not even inside a table', async (path) => {
    const { page, errors } = await open(path, width);
    // A string, not a function: this project's types have no DOM.
    const sizes = await page.evaluate<{ scroll: number; client: number; inner: number[] }>(
      `({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
          inner: [...document.querySelectorAll('.wrap')].map((w) => w.scrollWidth - w.clientWidth) })`,
    );
    expect(sizes.scroll).toBeLessThanOrEqual(sizes.client);
    if (width < 640) expect(sizes.inner.filter((d) => d > 0)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws axis labels at 11 px or more, inside the page and apart from each other', async () => {
    const { page } = await open('apps/tools.html', width);
    const all = await labels(page);
    expect(all.length).toBeGreaterThan(8);
    for (const l of all) {
      expect(l.size, l.text).toBeGreaterThanOrEqual(11);
      // Drawn at that size, not shrunk with the chart.
      expect(l.box.height, l.text).toBeGreaterThanOrEqual(11);
      expect(l.box.x, l.text).toBeGreaterThanOrEqual(0);
      expect(l.box.x + l.box.width, l.text).toBeLessThanOrEqual(width);
    }
    const dates = all.filter((l) => /^\d{4}-\d\d-\d\d$/.test(l.text));
    expect(dates.map((l) => l.text)).toEqual([
      '2027-01-01',
      '2027-02-01',
      '2027-03-01',
      '2027-01-01',
      '2027-02-01',
      '2027-03-01',
    ]);
    for (let i = 1; i < 3; i++)
      expect(dates[i]!.box.x).toBeGreaterThan(dates[i - 1]!.box.x + dates[i - 1]!.box.width);
    await page.close();
  });

  it('gives each chart a heading, whole-number ticks for a 1-seat tier, and shows "full" on the limit', async () => {
    const { page } = await open('apps/tools.html', width);
    expect(await page.locator('section.chart h3').allTextContents()).toEqual([
      'Seats of solo, next 90 days',
      'Seats of team, next 90 days',
    ]);
    const solo = page.locator('section.chart').first();
    expect(await solo.locator('svg.y-axis text').allTextContents()).toEqual(['0', '1']);
    expect(await page.locator('section.chart').nth(1).locator('svg.y-axis text').allTextContents()).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
    ]);
    // Where the used line sits on the limit: shaded, and labelled in words.
    expect(await solo.locator('rect.full').count()).toBe(1);
    const [full] = await labels(page, 'section.chart:first-of-type .full-label');
    expect(full?.text).toBe('full');
    expect(full!.box.width).toBeGreaterThan(10);
    expect(await solo.locator('figcaption').textContent()).toContain('Full from 2026-12-15 to 2027-01-20.');
    expect(await page.locator('main table').first().textContent()).toBeTruthy();
    expect(await page.getByText('solo full').count()).toBeGreaterThan(0);
    await page.close();
  });
});

describe('what the report says', () => {
  it('shows the reason of every grant, on the app page and on each person page', async () => {
    const { page } = await open('apps/tools.html', 390);
    const active = page.locator('table', { has: page.locator('caption', { hasText: 'Active' }) });
    for (const reason of ['Pager duty, OPS-7', 'Release manager, REL-2', 'Outage INC-99'])
      expect(await active.textContent()).toContain(reason);
    // On a phone each cell says its column first.
    const reason = active.locator('tbody tr').first().locator('td').nth(5);
    expect(await reason.textContent()).toBe('Pager duty, OPS-7');
    expect(
      await reason.evaluate(
        (td) =>
          (
            globalThis as unknown as { getComputedStyle(e: unknown, p: string): { content: string } }
          ).getComputedStyle(td, '::before').content,
      ),
    ).toBe('"Reason: "');
    await page.close();
    const alice = await open('people/alice.html');
    expect(await alice.page.locator('main table').textContent()).toContain('Pager duty, OPS-7');
    await alice.page.close();
  });

  it('marks privileged and emergency access, and says what can be granted under which rules', async () => {
    const { page } = await open('apps/tools.html');
    const row = (who: string) => page.locator('table tr', { hasText: who }).first().textContent();
    expect(await row('Bob Stone')).toContain('active, privileged');
    expect(await row('Carol Nguyen')).toMatch(/privileged, emergency \(approve by .+\)/);
    const grantable = page.locator('table', {
      has: page.locator('caption', { hasText: 'What can be granted' }),
    });
    expect(await grantable.locator('tr', { hasText: 'deploy-prod' }).textContent()).toContain(
      'privileged, emergency access up to PT4H',
    );
    await page.close();
  });

  it("shows each app's last and next access review", async () => {
    const { page } = await open('apps/tools.html');
    expect(await page.textContent('main')).toContain(
      'Reviewed every P90D. Last review: never. Next review: now overdue.',
    );
    const index = await open('index.html');
    const apps = index.page.locator('table', { has: index.page.locator('caption', { hasText: 'Apps' }) });
    expect(await apps.locator('tr', { hasText: 'Build tools' }).textContent()).toContain('nevernow overdue');
    await page.close();
    await index.page.close();
  });

  it('finds entitlements and tiers by name, linking to them on their app page', async () => {
    const { page, errors } = await open('index.html', 320);
    const box = page.getByLabel('Search apps, people and access');
    await box.fill('deploy-prod');
    await shown(page, '1 shown');
    expect(await page.locator('#results tr').allTextContents()).toEqual([
      'Accessdeploy-prod toolsBuild tools role: Deploy to production',
    ]);
    // A word of what it gives finds it too, and a tier by its id.
    await box.fill('production');
    await shown(page, '1 shown');
    await box.fill('solo');
    await shown(page, '1 shown');
    expect(await page.textContent('#results')).toContain(
      'Build tools tier, 1 seat: The one floating licence',
    );
    await box.fill('deploy-prod');
    await shown(page, '1 shown');
    await page.locator('#results a').click();
    await page.waitForURL(/apps\/tools\.html#access-deploy-prod$/);
    expect(await page.locator('#access-deploy-prod').textContent()).toBe('deploy-prod');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows no instant to the millisecond, in any page', async () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true }))
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.name.endsWith('.html')) files.push(relative(out, join(d, e.name)));
    };
    walk(out);
    expect(files.length).toBeGreaterThan(4);
    for (const file of files) expect(readFileSync(join(out, file), 'utf8'), file).not.toMatch(MILLIS);
    for (const path of PAGES) {
      const { page } = await open(path);
      expect(await page.evaluate<string>('document.body.textContent'), path).not.toMatch(MILLIS);
      await page.close();
    }
    const { page } = await open('people/alice.html');
    // To the second, in the settings' zone; the header's instant too.
    expect(await page.textContent('main')).toContain('2027-01-20T05:10:03+01:00');
    expect(await page.textContent('header')).toContain('at 2026-12-15T11:00:00+01:00 (Europe/Berlin)');
    await page.close();
  });
});

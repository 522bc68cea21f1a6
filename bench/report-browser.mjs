// Opens a written report's overview in headless Chromium and prints JSON:
// the time to its load event, and the time each keystroke of a search takes
// to show its answer (the index files it needs loaded from disk).

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const site = process.argv[2];
const query = process.argv[3] ?? 'person-00042';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  const page = await browser.newPage();
  const started = performance.now();
  await page.goto(pathToFileURL(join(site, 'index.html')).href, { waitUntil: 'load' });
  const loadMs = performance.now() - started;
  const keys = [];
  for (let i = 1; i <= query.length; i++) {
    keys.push(
      await page.evaluate(
        async (q) => {
          const box = document.getElementById('search');
          const shown = document.getElementById('shown');
          const t0 = performance.now();
          const done = new Promise((resolve) => {
            const watch = new MutationObserver(() => {
              watch.disconnect();
              resolve(undefined);
            });
            watch.observe(shown, { childList: true, characterData: true, subtree: true });
          });
          box.value = q;
          box.dispatchEvent(new Event('input'));
          await done;
          return performance.now() - t0;
        },
        query.slice(0, i),
      ),
    );
  }
  const shown = await page.textContent('#shown');
  console.log(JSON.stringify({ loadMs, keys, shown }));
} finally {
  await browser.close();
}

import type { Page } from 'playwright-core';

type Doc = { document: { getElementById(id: string): { textContent: string | null } | null } };

/**
 * Waits until the report's "shown" line reads `text` (or starts with it).
 * A function, not a string: the report's Content-Security-Policy forbids eval.
 */
export function shown(page: Page, text: string, prefix = false): Promise<unknown> {
  return page.waitForFunction(
    ([want, starts]) => {
      const got = (globalThis as unknown as Doc).document.getElementById('shown')?.textContent ?? '';
      return starts ? got.startsWith(want) : got === want;
    },
    [text, prefix] as const,
  );
}

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Three files at a time on any machine (vitest's default is one fewer than the cores: one here).
    // Much of a test's time is spent in processes it waits on (git, PostgreSQL, slapd, Chromium),
    // so three overlap well on two cores (0.89x the wall time of two, pairs 0.86-0.91); every server
    // a test starts takes a free port and a folder of its own.
    maxWorkers: 3,
    // A worker runs file after file in one module graph instead of a fresh process per file: the
    // suite's modules load once per worker, not once per file (384 s to 307 s on this machine).
    // Tests share nothing through module state: each makes its own folders, servers and clock.
    isolate: false,
  },
});

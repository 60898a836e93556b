import { defineConfig } from 'vitest/config';

// The suite in tiers, one vitest project each (README, "Tests"): `npm test` runs them all.
export default defineConfig({
  test: {
    testTimeout: 90_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Pure: no host tools. An empty PATH makes a test that runs one fail here, at once,
          // instead of passing only on machines that have it (such a test goes to test/host/).
          env: { PATH: '' },
          // Pure code with its dependencies passed in (no module-level state): the files share
          // their workers' module cache, which halves the tier's time.
          isolate: false,
        },
      },
      // Host tools (systemd-analyze, tar, the image build's cache), no service manager.
      { extends: true, test: { name: 'host', include: ['test/host/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          // A real systemd manager and podman (test/in-sandbox.sh), LANs in network namespaces,
          // a browser: every other test file, so none is left out of `npm test`.
          name: 'sandbox',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**', 'test/host/**', '**/node_modules/**'],
        },
      },
    ],
  },
});

import { defineConfig, devices } from '@playwright/test';

// Module-local declaration: the devDependencies carry no @types/node.
declare const process: { env: Record<string, string | undefined> };

// Bulwark end-to-end tests.
//
// The config starts the server itself from the debug build
// (`cargo leptos build` must have run first; scripts/test.sh does that).
// It uses Debian's Chromium: never run `npx playwright install` here.

const PORT = 3100;
const CI = !!process.env.CI;
const BASE_URL = `http://127.0.0.1:${PORT}`;

const chromiumLaunch = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  workers: 1, // 2-core machine
  retries: CI ? 1 : 0,
  forbidOnly: CI,
  reporter: [['list']],
  timeout: 30_000,
  expect: { timeout: 10_000 },

  use: {
    baseURL: BASE_URL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: chromiumLaunch,
  },

  projects: [
    {
      name: 'hydrated',
      testIgnore: /.*\.nojs\.spec\.ts$/,
      use: {
        ...devices['Desktop Chrome'],
        javaScriptEnabled: true,
        launchOptions: chromiumLaunch,
      },
    },
    {
      name: 'no-js',
      testMatch: /.*\.nojs\.spec\.ts$/,
      use: {
        ...devices['Desktop Chrome'],
        javaScriptEnabled: false,
        launchOptions: chromiumLaunch,
      },
    },
  ],

  webServer: {
    // Runs from the repository root so the relative paths match the Leptos config.
    cwd: '..',
    command:
      'rm -f .tmp/e2e.db* && mkdir -p .tmp && ./target/debug/bulwark serve --demo',
    env: {
      DATABASE_URL: 'sqlite://.tmp/e2e.db?mode=rwc',
      LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
      LEPTOS_SITE_ROOT: 'target/site',
      LEPTOS_SITE_PKG_DIR: 'pkg',
      LEPTOS_OUTPUT_NAME: 'bulwark',
      RUST_LOG: 'info',
    },
    url: `${BASE_URL}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});

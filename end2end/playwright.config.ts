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
const SMTP_PORT = 3125;
/** Where the SMTP sink writes what it receives (relative to the repository root). */
export const MAIL_DIR = '.tmp/e2e-mail';

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
  timeout: CI ? 60_000 : 30_000, // a cold CI machine serves its first pages slowly
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

  webServer: [
    {
      // A real SMTP server the console sends reports to; mail lands in .tmp/e2e-mail.
      cwd: '..',
      command: `rm -rf ${MAIL_DIR} && .tmp/venv/bin/python tests/support/smtp_sink.py --port ${SMTP_PORT} --dir ${MAIL_DIR}`,
      port: SMTP_PORT,
      reuseExistingServer: false,
      timeout: CI ? 60_000 : 30_000, // a cold CI machine serves its first pages slowly
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      // Runs from the repository root so the relative paths match the Leptos config.
      cwd: '..',
      command: 'rm -rf .tmp/e2e.db* .tmp/e2e-data && mkdir -p .tmp && ./target/debug/bulwark serve --demo',
      env: {
        DATABASE_URL: 'sqlite://.tmp/e2e.db?mode=rwc',
        BULWARK_DATA_DIR: '.tmp/e2e-data',
        BULWARK_SMTP_HOST: '127.0.0.1',
        BULWARK_SMTP_PORT: String(SMTP_PORT),
        BULWARK_SMTP_SECURITY: 'none',
        BULWARK_SMTP_FROM: 'Bulwark <reports@bulwark.local>',
        // The tests' receivers (DingTalk robot, registry) listen on loopback: allowed explicitly.
        BULWARK_OUTBOUND_ALLOW: '127.0.0.1',
        BULWARK_DINGTALK_HOSTS: 'oapi.dingtalk.com, http://127.0.0.1',
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
  ],
});

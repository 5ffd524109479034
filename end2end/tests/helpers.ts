import { expect, Page, test as base } from '@playwright/test';

/**
 * `test` with a check after each test that the browser logged no error and no uncaught
 * exception (a hydration mismatch shows up here). Failed fetches the test expects, such as a
 * refused sign-in, are not errors of the page.
 */
export const test = base.extend<{ browserErrors: string[] }>({
  browserErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
      });
      await use(errors);
      expect(errors, 'errors in the browser console').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/** Demo sign-ins seeded by `bulwark serve --demo`. */
export const ADMIN = { email: 'admin@bulwark.local', password: 'bulwark-demo-admin' };
export const VIEWER = { email: 'viewer@bulwark.local', password: 'bulwark-demo-viewer' };
export const BASIC = { email: 'basic@bulwark.local', password: 'bulwark-demo-basic' };

/** Waits until the page has hydrated, so client-side handlers are attached. */
export async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1, { timeout: 20_000 });
}

export async function goto(page: Page, path: string) {
  await page.goto(path);
  await hydrated(page);
}

/** Reloads and waits for hydration: a click before it lands on a page without its handlers. */
export async function reload(page: Page) {
  await page.reload();
  await hydrated(page);
}

export async function signIn(page: Page, who: { email: string; password: string }, path = '/') {
  await page.goto(`/sign-in?next=${encodeURIComponent(path)}`);
  await hydrated(page);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Signing in loads a new document: wait for it, then for its own hydration.
  await page.waitForURL(path === '/' ? /\/$/ : new RegExp(`${path.replace(/[?]/g, '\\?')}$`), { waitUntil: 'load' });
  await hydrated(page);
}

// Node's modules, without @types/node in the devDependencies.
declare function require(name: string): any;

/** glibc's source version as dpkg reports it for libc6 on this Debian host. */
export function glibcSourceVersion(): string {
  const { execFileSync } = require('child_process');
  return execFileSync('dpkg-query', ['-W', '-f', '${source:Version}', 'libc6']).toString().trim();
}

/** This host's Debian release ("12"), as OSV ecosystems name it. */
export function debianRelease(): string {
  const release: string = require('fs').readFileSync('/etc/os-release', 'utf8');
  const line = release.split('\n').find((l) => l.startsWith('VERSION_ID=')) ?? 'VERSION_ID=""';
  return line.split('=')[1].replace(/"/g, '').split('.')[0];
}

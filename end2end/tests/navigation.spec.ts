import { ADMIN, expect, goto, hydrated, signIn, test } from './helpers';

const PAGES: [string, string, RegExp][] = [
  ['Assets', '/assets', /^Assets$/],
  ['Container Signature', '/precaution/container-signature', /^Container Signature$/],
  ['Reports', '/operation/reports', /^Reports$/],
  ['Multi-account Control', '/operation/multi-account', /^Multi-account Control$/],
  ['Policy Center', '/playbook/policy-center', /^Playbook$/],
  ['My Policy', '/playbook/my-policy', /^My Policy$/],
  ['Task Management', '/playbook/tasks', /^Task Management$/],
  ['Settings', '/settings/account', /^Settings$/],
  ['Overview', '/', /^Overview$/],
];

test('every page of the navigation opens, with its own URL, and back/forward work', async ({ page }) => {
  await signIn(page, ADMIN);
  const nav = page.getByRole('navigation', { name: 'Console' });
  for (const [label, path, heading] of PAGES) {
    await nav.getByRole('link', { name: label, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${path.replace(/\//g, '\\/')}$`));
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
    await expect(nav.getByRole('link', { name: label, exact: true })).toHaveAttribute('aria-current', 'page');
  }
  await page.goBack();
  await expect(page).toHaveURL(/\/settings\/account$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Settings' })).toBeVisible();
  await page.goForward();
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
});

test('the header shows the account, its id, edition and the user', async ({ page }) => {
  await signIn(page, ADMIN);
  await expect(page.locator('.account-name')).toHaveText('Bulwark Demo');
  await expect(page.locator('.account-id')).toHaveText(/^\d{16}$/);
  await expect(page.getByTestId('edition-badge')).toHaveText('Enterprise');
  await expect(page.locator('.user-email')).toHaveText(ADMIN.email);
});

test('the overview shows the score, its trend and the risks', async ({ page }) => {
  await signIn(page, ADMIN);
  const score = Number(await page.getByTestId('score').innerText());
  expect(score).toBeGreaterThanOrEqual(10);
  expect(score).toBeLessThanOrEqual(100);
  await expect(page.getByRole('img', { name: /Security score by day/ })).toBeVisible();
  const risks = page.getByTestId('risk-table');
  await expect(risks.getByRole('row')).toHaveCount(4);
  await expect(risks).toContainText('Unfixed vulnerabilities');
});

test('a deep link renders fully on the server', async ({ page }) => {
  await signIn(page, ADMIN);
  const response = await page.request.get('/assets?group=0');
  expect(response.status()).toBe(200);
  const html = await response.text();
  expect(html).toContain('win-ad-01');
  expect(html).not.toContain('web-prod-01');
  await goto(page, '/does-not-exist');
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});

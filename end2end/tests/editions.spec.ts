import { ADMIN, BASIC, VIEWER, expect, goto, reload, signIn, test } from './helpers';

// Node's modules, without @types/node in the devDependencies.
declare function require(name: string): any;
declare const process: { env: Record<string, string | undefined> };
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.resolve('..');

/** What the console's operator runs on the server: `bulwark account edition`, on the database
 * the test server uses (playwright.config.ts). Returns what it printed. */
function setEdition(account: string, edition: string): string {
  return execFileSync('./target/debug/bulwark', ['account', 'edition', account, edition], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: 'sqlite://.tmp/e2e.db?mode=rwc', BULWARK_DATA_DIR: '.tmp/e2e-data', RUST_LOG: 'warn' },
  }).toString();
}

test('a Basic account sees the upgrade page; the edition the operator sets unlocks it', async ({ page }) => {
  await signIn(page, BASIC, '/playbook/policy-center');
  const upgrade = page.getByTestId('upgrade');
  await expect(upgrade).toContainText('Upgrade to Enterprise to use Playbooks');
  await expect(upgrade).toContainText('Your console operator sets the edition.');
  await expect(page.getByTestId('policy-templates')).toHaveCount(0);
  await goto(page, '/operation/reports');
  await expect(page.getByTestId('upgrade')).toContainText('Upgrade to Advanced to use Security reports');

  // The Account tab shows the edition and who sets it; there is nothing to change it with.
  await goto(page, '/settings/account');
  await expect(page.getByTestId('current-edition')).toHaveText('Basic');
  await expect(page.getByTestId('edition-note')).toContainText('Your console operator sets the edition.');
  await expect(page.getByLabel('Edition')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Change edition' })).toHaveCount(0);

  expect(setEdition('Acme Retail', 'advanced')).toContain('edition Basic → Advanced');
  await reload(page);
  await expect(page.getByTestId('edition-badge')).toHaveText('Advanced');
  await expect(page.getByTestId('current-edition')).toHaveText('Advanced');
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Reports' }).click();
  await expect(page.getByTestId('report-table')).toContainText('Default security report');
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Policy Center' }).click();
  await expect(page.getByTestId('upgrade')).toContainText('Upgrade to Enterprise');

  // Put the demo account back for the other specs.
  expect(setEdition('Acme Retail', 'basic')).toContain('edition Advanced → Basic');
  await goto(page, '/settings/account');
  await expect(page.getByTestId('edition-badge')).toHaveText('Basic');
});

test('viewers see the edition read-only too', async ({ page }) => {
  await signIn(page, VIEWER, '/settings/account');
  await expect(page.getByTestId('current-edition')).toHaveText('Enterprise');
  await expect(page.getByTestId('edition-note')).toContainText('Your console operator sets the edition.');
});

test('an Enterprise account sees the policy template', async ({ page }) => {
  await signIn(page, ADMIN, '/playbook/policy-center');
  const templates = page.getByTestId('policy-templates');
  await expect(templates).toContainText('Automatic batch vulnerability fixing policies');
  await expect(templates).toContainText('Supports multiple hosts to automatically fix vulnerabilities in batches.');
});

test('container signature asks once for authorization, which can be revoked in Settings', async ({ page }) => {
  await signIn(page, ADMIN, '/precaution/container-signature');
  const ask = page.getByTestId('authorize');
  await expect(ask).toContainText('Authorize Bulwark to access the key management service');
  await ask.getByRole('button', { name: 'Authorize' }).click();
  await expect(page.getByTestId('create-witness')).toBeVisible();

  await goto(page, '/settings/authorizations');
  const row = page.getByTestId('authorization-table').getByRole('row', { name: /Container signature/ });
  await expect(row).toContainText('Authorized');
  const toggle = row.getByRole('switch', { name: 'Authorize Container signature' });
  await expect(toggle).toBeChecked();
  // The switch's checkbox is visually hidden behind its slider; people click the slider.
  await row.locator('label.toggle').click();
  await expect(row).toContainText('Not authorized');
  await expect(row.getByRole('switch', { name: 'Authorize Container signature' })).not.toBeChecked();
  await goto(page, '/precaution/container-signature');
  await expect(page.getByTestId('authorize')).toBeVisible();
});

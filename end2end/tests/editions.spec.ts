import { ADMIN, BASIC, expect, goto, signIn, test } from './helpers';

test('a Basic account sees the upgrade page for Playbook, and upgrading unlocks it', async ({ page }) => {
  await signIn(page, BASIC, '/playbook/policy-center');
  const upgrade = page.getByTestId('upgrade');
  await expect(upgrade).toContainText('Upgrade to Enterprise to use Playbooks');
  await expect(page.getByTestId('policy-templates')).toHaveCount(0);
  await goto(page, '/operation/reports');
  await expect(page.getByTestId('upgrade')).toContainText('Upgrade to Advanced to use Security reports');

  await page.getByRole('link', { name: 'Change edition in Settings' }).click();
  await expect(page).toHaveURL(/\/settings\/account$/);
  await page.getByLabel('Edition').selectOption('advanced');
  await page.getByRole('button', { name: 'Change edition' }).click();
  await expect(page.getByTestId('edition-badge')).toHaveText('Advanced');

  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Reports' }).click();
  await expect(page.getByTestId('report-table')).toContainText('Default security report');
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Policy Center' }).click();
  await expect(page.getByTestId('upgrade')).toContainText('Upgrade to Enterprise');

  // Put the demo account back for the other specs.
  await goto(page, '/settings/account');
  await page.getByLabel('Edition').selectOption('basic');
  await page.getByRole('button', { name: 'Change edition' }).click();
  await expect(page.getByTestId('edition-badge')).toHaveText('Basic');
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

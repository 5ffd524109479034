import { ADMIN, VIEWER, expect, goto, signIn, test } from './helpers';

test('adding a user validates each field beside it, and the new user can sign in', async ({ page, browser }) => {
  await signIn(page, ADMIN, '/settings/users');
  const form = page.locator('form.form');
  await form.getByLabel('Email').fill('not-an-email');
  await form.getByLabel('Name').fill('');
  await form.getByLabel('Initial password').fill('short');
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.locator('[data-field=email]')).toHaveText('"not-an-email" is not a valid email address.');
  await expect(page.locator('[data-field=name]')).toHaveText("Enter the user's name.");
  await expect(page.locator('[data-field=password]')).toHaveText('Use at least 12 characters.');

  // A duplicate is only known to the server; its answer lands beside the field too.
  await form.getByLabel('Email').fill(VIEWER.email);
  await form.getByLabel('Name').fill('Second viewer');
  await form.getByLabel('Initial password').fill('a-long-enough-password');
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.locator('[data-field=email]')).toHaveText('This email cannot be added.');

  await form.getByLabel('Email').fill('dana@bulwark.local');
  await form.getByLabel('Role').selectOption('viewer');
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.locator('.toast-success')).toHaveText('User added.');
  await expect(page.getByTestId('user-table')).toContainText('dana@bulwark.local');

  const other = await browser.newPage();
  await signIn(other, { email: 'dana@bulwark.local', password: 'a-long-enough-password' });
  await expect(other.locator('.user-menu')).toContainText('Viewer');
  await other.close();

  const users = page.getByTestId('user-table');
  await users.getByLabel('Role of dana@bulwark.local').selectOption('admin');
  await expect(page.locator('.toast-success').filter({ hasText: 'Role changed.' })).toBeVisible();
  await expect(users.getByLabel(`Role of ${ADMIN.email}`)).toBeDisabled();

  await users.getByRole('row', { name: /dana@bulwark.local/ }).getByRole('button', { name: 'Remove' }).click();
  const dialog = page.getByRole('dialog', { name: 'Remove user' });
  await expect(dialog).toContainText('Remove dana@bulwark.local?');
  await dialog.getByRole('button', { name: 'Remove user' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'User removed.' })).toBeVisible();
  await expect(users).not.toContainText('dana@bulwark.local');
});

test('an API token is shown once and can be revoked', async ({ page }) => {
  await signIn(page, ADMIN, '/settings/tokens');
  await page.getByLabel('Token name').fill('vulnerability scanner');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = page.getByTestId('new-token');
  await expect(secret).toHaveText(/^blk_[0-9a-f]{64}$/);
  const token = await secret.innerText();

  const ingest = await page.request.post('/api/v1/assets', {
    headers: { Authorization: `Bearer ${token}` },
    data: { assets: [{ instance_id: 'i-e2e-1', name: 'e2e-host', ips: ['10.77.0.1'] }] },
  });
  expect(ingest.status()).toBe(200);
  const bad = await page.request.post('/api/v1/assets', {
    headers: { Authorization: `Bearer ${token}` },
    data: { assets: [{ instance_id: 'i-e2e-2', name: 'bad', ips: ['10.77.0.300'] }] },
  });
  expect(bad.status()).toBe(422);
  expect((await bad.json()).fields['assets[0].ips[0]']).toBe('"10.77.0.300" is not an IP address');

  await goto(page, '/settings/tokens');
  await expect(page.getByTestId('new-token')).toHaveCount(0);
  const row = page.getByTestId('token-table').getByRole('row', { name: /vulnerability scanner/ });
  await expect(row).toContainText(token.slice(0, 12));
  await expect(row).not.toContainText(token.slice(12));
  await row.getByRole('button', { name: 'Revoke' }).click();
  const dialog = page.getByRole('dialog', { name: 'Revoke API token' });
  await expect(dialog).toContainText('Revoke "vulnerability scanner"?');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(row).toContainText('Active');
  await row.getByRole('button', { name: 'Revoke' }).click();
  await dialog.getByRole('button', { name: 'Revoke token' }).click();
  await expect(row).toContainText('Revoked');
  await expect(page.locator('.toast-success')).toHaveText('Token revoked.');
  const refused = await page.request.get('/api/v1/assets/i-e2e-1', { headers: { Authorization: `Bearer ${token}` } });
  expect(refused.status()).toBe(401);
});

test('score weights must add up to 100', async ({ page }) => {
  await signIn(page, ADMIN, '/settings/score');
  const critical = page.getByLabel('alerts.critical');
  await critical.fill('20');
  await expect(page.getByTestId('weights-total')).toHaveText('Total: 105');
  await page.getByRole('button', { name: 'Save weights' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'The weights must add up to 100; they add up to 105.' })).toBeVisible();
  await page.getByLabel('alerts.high').fill('5');
  await page.getByRole('button', { name: 'Save weights' }).click();
  await expect(page.locator('.toast-success')).toHaveText('Weights saved.');
  await goto(page, '/settings/score');
  await expect(page.getByLabel('alerts.critical')).toHaveValue('20');
  // Restore the defaults for the other specs.
  await page.getByLabel('alerts.critical').fill('15');
  await page.getByLabel('alerts.high').fill('10');
  await page.getByRole('button', { name: 'Save weights' }).click();
  await expect(page.locator('.toast-success')).toHaveText('Weights saved.');
});

test('viewers see settings but cannot change them', async ({ page }) => {
  await signIn(page, VIEWER, '/settings/account');
  await expect(page.getByLabel('Time zone')).toBeDisabled();
  await goto(page, '/settings/audit');
  await expect(page.locator('.notice-error')).toContainText('Only admins can do this');
});

test('the audit log records changes', async ({ page }) => {
  await signIn(page, ADMIN, '/settings/audit');
  const log = page.getByTestId('audit-table');
  await expect(log).toContainText('user.sign_in');
  await expect(log).toContainText('ingest.assets');
});

test('email settings: SMTP form validation, a test email over real SMTP, and the time zone', async ({ page }) => {
  await signIn(page, ADMIN, '/settings/email');
  // The console's own SMTP server (from its environment) is in use until the account sets one.
  await expect(page.getByTestId('smtp-status')).toHaveText(/console's SMTP server \(127\.0\.0\.1:3125\)/);
  await page.getByLabel('Host').fill('smtp example.com');
  await page.getByLabel('Port').fill('99999');
  await page.getByLabel('From address').fill('nobody');
  await page.getByLabel('Password').fill('secret-without-user');
  await page.getByRole('button', { name: 'Save SMTP server' }).click();
  await expect(page.locator('[data-field=host]')).toHaveText('Enter a host name or IP address, without scheme or port.');
  await expect(page.locator('[data-field=port]')).toHaveText('Enter a port between 1 and 65535.');
  await expect(page.locator('[data-field=from]')).toHaveText('"nobody" is not a valid email address.');
  await expect(page.locator('[data-field=username]')).toHaveText('A password needs a user name.');

  await page.getByLabel('To', { exact: true }).fill('not-an-address');
  await page.getByRole('button', { name: 'Send test email' }).click();
  await expect(page.locator('[data-field=to]')).toHaveText('"not-an-address" is not a valid email address.');
  await page.getByLabel('To', { exact: true }).fill('tester@bulwark.local');
  await page.getByRole('button', { name: 'Send test email' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: /Test email sent\. 250/ })).toBeVisible({ timeout: 20_000 });

  await goto(page, '/settings/account');
  const zone = page.getByLabel('Time zone');
  await zone.fill('Mars/Olympus');
  await page.getByRole('button', { name: 'Save time zone' }).click();
  await expect(page.locator('[data-field=time_zone]')).toHaveText('“Mars/Olympus” is not an IANA time zone such as Europe/Berlin or UTC.');
  await zone.fill('Europe/Berlin');
  await page.getByRole('button', { name: 'Save time zone' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Time zone changed' })).toBeVisible();
  await goto(page, '/operation/reports');
  await expect(page.getByTestId('report-table')).toContainText('(Europe/Berlin)');
  await goto(page, '/settings/account');
  await page.getByLabel('Time zone').fill('UTC');
  await page.getByRole('button', { name: 'Save time zone' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Time zone changed' })).toBeVisible();
});

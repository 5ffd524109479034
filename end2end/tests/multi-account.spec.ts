import { ADMIN, BASIC, expect, goto, reload, signIn, test } from './helpers';

test.describe.configure({ mode: 'serial' });

const directoryRow = (page, name: string) => page.getByTestId('directory-table').getByRole('row', { name: new RegExp(name) });
const managedRow = (page, name: string) => page.getByTestId('managed-table').getByRole('row', { name: new RegExp(name) });

test('build the directory: authorize, a folder, a resource account, an invitation accepted by its admin', async ({ page, browser }) => {
  await signIn(page, ADMIN, '/settings/resource-directory');
  const ask = page.getByTestId('authorize');
  await expect(ask).toContainText('the resource directory and its member accounts');
  await ask.getByRole('button', { name: 'Authorize' }).click();
  await expect(page.getByTestId('directory-table')).toContainText('Management account');

  await page.getByLabel('New folder').fill('Production');
  await page.getByRole('button', { name: 'Create folder' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Folder created.' })).toBeVisible();
  await expect(page.getByTestId('folder-tree')).toContainText('Production');

  const create = page.getByTestId('create-member');
  await create.getByRole('button', { name: 'Create member' }).click();
  await expect(page.locator('[data-field=member_name]')).toHaveText("Enter the account's display name.");
  await create.getByLabel('Display name').fill('EU Shop');
  await create.getByLabel('Folder').selectOption({ label: 'Production' });
  await expect(page.getByText('It starts on the Basic edition')).toBeVisible();
  await create.getByRole('button', { name: 'Create member' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Resource account created.' })).toBeVisible();
  await expect(directoryRow(page, 'EU Shop')).toContainText('Resource account');

  // Invite Acme Retail (the Basic demo account) by its id, read from its own header.
  const acme = await browser.newPage();
  await signIn(acme, BASIC, '/settings/invitations');
  const acmeId = (await acme.locator('.account-id').innerText()).trim();
  const invite = page.getByTestId('invite-account');
  await invite.getByLabel('Account ID').fill('123');
  await invite.getByRole('button', { name: 'Invite' }).click();
  await expect(page.locator('[data-field=account_no]')).toHaveText("Enter the 16-digit account id shown in that account's header.");
  await invite.getByLabel('Account ID').fill(acmeId);
  await invite.getByRole('button', { name: 'Invite' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Invitation sent' })).toBeVisible();
  await expect(page.getByTestId('sent-invitations')).toContainText('Pending');
  await expect(directoryRow(page, 'Acme Retail')).toHaveCount(0);

  await reload(acme);
  await expect(acme.getByTestId('received-invitations')).toContainText('Bulwark Demo');
  await acme.getByRole('button', { name: 'Accept' }).click();
  await expect(acme.locator('.toast-success').filter({ hasText: 'Answer sent.' })).toBeVisible();
  await expect(acme.getByTestId('received-invitations')).toContainText('Accepted');
  await acme.close();

  await goto(page, '/settings/resource-directory');
  await expect(directoryRow(page, 'Acme Retail')).toContainText('(invited)');
});

test('add both through the dialog, see their scores and risks, view one read-only, search, delete', async ({ page }) => {
  await signIn(page, ADMIN, '/operation/multi-account');
  await expect(page.getByTestId('managed-table')).toContainText('No managed accounts yet');
  await page.getByRole('button', { name: 'Add' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add accounts' });
  await expect(dialog.getByTestId('can-be-added')).toHaveText('Can be added: 2');
  await dialog.getByLabel('Search members').fill('acme');
  await expect(dialog.getByRole('checkbox')).toHaveCount(2); // Acme, and the auto-add checkbox
  await dialog.getByLabel(/Acme Retail/).check();
  await dialog.getByLabel('Search members').fill('');
  await dialog.getByLabel(/EU Shop/).check();
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: '2 accounts added.' })).toBeVisible();

  const acme = managedRow(page, 'Acme Retail');
  await expect(acme).toContainText('Basic');
  // Acme has the demo's hosts with alerts: a score below 100 and unhandled alerts counted.
  await expect(acme.getByTestId('managed-score')).toHaveText(/^\d+$/);
  expect(Number(await acme.getByTestId('managed-score').innerText())).toBeLessThan(100);
  await expect(managedRow(page, 'EU Shop').getByTestId('managed-score')).toHaveText('100');

  await acme.getByRole('link', { name: 'View' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Acme Retail' })).toBeVisible();
  await expect(page.getByTestId('member-entry')).toContainText('Root');
  await expect(page.getByTestId('member-assets').locator('tbody tr').first()).toBeVisible();
  await expect(page.getByText('read-only view')).toBeVisible();

  await goto(page, '/operation/multi-account?q=shop');
  await expect(page.getByTestId('managed-table').locator('tbody tr')).toHaveCount(1);
  await expect(page.getByRole('navigation', { name: 'Pagination' })).toContainText('1 in all');
  await goto(page, '/operation/multi-account');
  await managedRow(page, 'EU Shop').getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog', { name: 'Remove from the list' }).getByRole('button', { name: 'Remove' }).click();
  await expect(managedRow(page, 'EU Shop')).toHaveCount(0);
  await expect(managedRow(page, 'Acme Retail')).toHaveCount(1);
  // Every look at a member is in the audit log.
  await goto(page, '/settings/audit');
  await expect(page.getByTestId('audit-table')).toContainText('multi_account.view');
});

test('new accounts join the list by themselves only with the checkbox on', async ({ page }) => {
  await signIn(page, ADMIN, '/operation/multi-account');
  await page.getByRole('button', { name: 'Add' }).click();
  let dialog = page.getByRole('dialog', { name: 'Add accounts' });
  await dialog.getByLabel(/When a new account is created/).check();
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByTestId('auto-manage-on')).toBeVisible();

  await goto(page, '/settings/resource-directory');
  const create = page.getByTestId('create-member');
  await create.getByLabel('Display name').fill('Auto One');
  await create.getByRole('button', { name: 'Create member' }).click();
  await expect(directoryRow(page, 'Auto One')).toContainText('managed');
  await goto(page, '/operation/multi-account');
  await expect(managedRow(page, 'Auto One')).toHaveCount(1);

  await page.getByRole('button', { name: 'Add' }).click();
  dialog = page.getByRole('dialog', { name: 'Add accounts' });
  await dialog.getByLabel(/When a new account is created/).uncheck();
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(page.getByTestId('auto-manage-on')).toHaveCount(0);
  await goto(page, '/settings/resource-directory');
  await page.getByTestId('create-member').getByLabel('Display name').fill('Manual Two');
  await page.getByTestId('create-member').getByRole('button', { name: 'Create member' }).click();
  await expect(directoryRow(page, 'Manual Two')).toBeVisible();
  await goto(page, '/operation/multi-account');
  await expect(managedRow(page, 'Manual Two')).toHaveCount(0);
});

test('a resource account is upgraded and signs in by itself', async ({ page, browser }) => {
  await signIn(page, ADMIN, '/settings/resource-directory');
  await directoryRow(page, 'EU Shop').getByRole('button', { name: 'Upgrade' }).click();
  const dialog = page.getByRole('dialog', { name: 'Upgrade to a cloud account' });
  await dialog.getByLabel('Admin email').fill('owner@eushop.test');
  await dialog.getByLabel('Admin name').fill('Shop Owner');
  await dialog.getByLabel('Initial password').fill('short');
  await dialog.getByRole('button', { name: 'Upgrade' }).click();
  await expect(page.locator('[data-field=upgrade_password]')).toHaveText('Use at least 12 characters.');
  await dialog.getByLabel('Initial password').fill('eu-shop-owner-password');
  await dialog.getByRole('button', { name: 'Upgrade' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Upgraded' })).toBeVisible();
  await expect(directoryRow(page, 'EU Shop')).toContainText('Cloud account');

  const owner = await browser.newPage();
  await signIn(owner, { email: 'owner@eushop.test', password: 'eu-shop-owner-password' });
  await expect(owner.locator('.account-name')).toHaveText('EU Shop');
  // The member cannot see the management account's list.
  await goto(owner, '/operation/multi-account');
  await expect(owner.getByTestId('managed-table')).toHaveCount(0);
  await owner.close();
});

test('a consolidated report covers the managed accounts, with a per-account table', async ({ page }) => {
  await signIn(page, ADMIN, '/operation/reports/new');
  await page.getByLabel('Report Name').fill('Group daily');
  await page.getByLabel('Report Type').selectOption('daily');
  await page.getByLabel('Accounts covered').selectOption('chosen');
  await page.getByLabel('Recipients').fill('ciso@bulwark.local');
  await page.getByTestId('wizard-step-1').getByRole('button', { name: 'Next' }).click();
  await expect(page.locator('[data-field=scope_accounts]')).toHaveText('Choose at least one managed account.');
  await page.getByLabel(/Acme Retail/).check();
  await page.getByTestId('wizard-step-1').getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Report created.' })).toBeVisible();
  const row = page.getByTestId('report-table').locator('tr[data-report="Group daily"]');
  await expect(row.getByTestId('report-scope')).toHaveText('Consolidated: this account and 1 chosen');

  await row.getByRole('button', { name: 'Send Now' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Sent to ciso@bulwark.local.' })).toBeVisible({ timeout: 20_000 });
  await row.getByRole('link', { name: 'History' }).click();
  await page.getByTestId('delivery-table').getByRole('link', { name: 'View' }).click();
  const accounts = page.locator('section[data-section=accounts]');
  await expect(accounts.locator('tbody tr')).toHaveCount(2);
  await expect(accounts).toContainText('Bulwark Demo');
  await expect(accounts).toContainText('Acme Retail');

  // Leave the reports list as the reports spec expects it.
  await goto(page, '/operation/reports');
  await page.getByTestId('report-table').locator('tr[data-report="Group daily"]').getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog', { name: 'Delete report' }).getByRole('button', { name: 'Delete report' }).click();
  await expect(page.getByTestId('report-table').locator('tr[data-report="Group daily"]')).toHaveCount(0);
});

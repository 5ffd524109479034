import { ADMIN, expect, test } from './helpers';

// Without JavaScript: the sign-in form posts to the server function, and the read-only pages
// render completely on the server.
test('sign in and browse without JavaScript', async ({ page }) => {
  await page.goto('/assets');
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fassets/);
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/assets$/);
  await expect(page.getByTestId('asset-table').locator('tbody tr')).toHaveCount(20);

  await page.getByRole('searchbox', { name: 'Search assets' }).fill('bastion');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByTestId('asset-table').locator('tbody tr')).toHaveCount(2);
  await page.getByRole('link', { name: 'bastion-01' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'bastion-01' })).toBeVisible();

  await page.goto('/');
  await expect(page.getByTestId('score')).toHaveText(/^\d+$/);
  await page.goto('/playbook/policy-center');
  await expect(page.getByTestId('policy-templates')).toContainText('Automatic batch vulnerability fixing policies');

  // The reports list and its filters work as a plain GET form.
  await page.goto('/operation/reports');
  await expect(page.getByTestId('report-table')).toContainText('Monthly board report');
  await page.getByLabel('Type').selectOption('monthly');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/type=monthly/);
  await expect(page.getByTestId('report-table').locator('tbody tr')).toHaveCount(1);
});

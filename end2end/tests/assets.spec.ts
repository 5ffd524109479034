import { ADMIN, expect, signIn, test } from './helpers';

test('assets: groups, search by name and IP, pagination and the detail page', async ({ page }) => {
  await signIn(page, ADMIN, '/assets');
  const table = page.getByTestId('asset-table');
  const groups = page.getByRole('navigation', { name: 'Asset groups' });

  // 38 demo hosts over two pages of 20.
  await expect(page.locator('.pagination')).toContainText('38 in all');
  await expect(page.locator('.pagination')).toContainText('Page 1 of 2');
  await expect(table.locator('tbody tr')).toHaveCount(20);
  await page.getByRole('link', { name: 'Next ›' }).click();
  await expect(page).toHaveURL(/page=2/);
  // Deeper pages are read after the previous page's last asset (keyset paging).
  await expect(page).toHaveURL(/after=\d+/);
  await expect(page.locator('.pagination')).toContainText('Page 2 of 2');
  await expect(table.locator('tbody tr')).toHaveCount(18);
  await page.getByRole('link', { name: '‹ Previous' }).click();
  await expect(page.locator('.pagination')).toContainText('Page 1 of 2');
  await expect(table.locator('tbody tr')).toHaveCount(20);

  await groups.getByRole('link', { name: /Databases/ }).click();
  await expect(page).toHaveURL(/group=\d+/);
  await expect(table.locator('tbody tr')).toHaveCount(9);
  await expect(table).toContainText('db-prod-01');
  await expect(table).not.toContainText('web-prod-01');

  await groups.getByRole('link', { name: /All assets/ }).click();
  const search = page.getByRole('searchbox', { name: 'Search assets' });
  await search.fill('WEB-PROD-0');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/q=WEB-PROD-0/);
  await expect(table.locator('tbody tr')).toHaveCount(8);

  await search.fill('10.0.20.12');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(table.locator('tbody tr')).toHaveCount(1);
  await expect(table).toContainText('db-prod-02');

  // Two characters match the start of a name: every db host, no web host.
  await search.fill('db');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(table).toContainText('db-prod-02');
  await expect(table).not.toContainText('web-prod-01');

  // A substring from the middle of the name, any case.
  await search.fill('PROD-02');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(table).toContainText('db-prod-02');
  await expect(table).not.toContainText('db-prod-01');

  await search.fill('no-such-host');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(table).toContainText('No assets match this search.');

  await search.fill('db-prod-02');
  await page.getByRole('button', { name: 'Search' }).click();
  await table.getByRole('link', { name: 'db-prod-02' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'db-prod-02' })).toBeVisible();
  await expect(page.locator('dl.details')).toContainText('10.0.20.12');
  await expect(page.getByTestId('finding-table').locator('tbody tr').first()).toContainText(/CVE-\d{4}-\d+/);
  await page.getByRole('link', { name: '‹ All assets' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Assets' })).toBeVisible();
});

test('the assets table fits the content area of a 1440×900 screen, every column visible', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, ADMIN, '/assets');
  const table = page.getByTestId('asset-table');
  await expect(table.locator('tbody tr').first()).toBeVisible();
  const fit = await table.evaluate((t) => ({ table: t.scrollWidth, wrap: t.parentElement!.clientWidth, page: document.documentElement.scrollWidth }));
  expect(fit.table).toBeLessThanOrEqual(fit.wrap);
  expect(fit.page).toBeLessThanOrEqual(1440);
  // The last column is inside the viewport, not cut off.
  const lastHeader = table.locator('thead th').last();
  await expect(lastHeader).toHaveText(/Last seen/i);
  const box = await lastHeader.boundingBox();
  expect(box!.x + box!.width).toBeLessThanOrEqual(1440);
});

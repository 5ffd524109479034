import { expect, test } from './helpers';

// The API description is public (it holds no account data); the operations it lists still
// need their tokens. The page's own scripts run under its `script-src 'self'` policy: a
// violation would be a console error and fail the test through the helper.
test('the API description is browsable at /api/docs and lists every area', async ({ page }) => {
  await page.goto('/api/docs/');
  await expect(page.getByRole('heading', { name: /Bulwark API/ })).toBeVisible({ timeout: 20_000 });
  for (const tag of ['ingestion', 'agents', 'key service', 'signatures', 'admission']) {
    await expect(page.locator('.opblock-tag-section h3', { hasText: new RegExp(`^${tag}`) })).toBeVisible();
  }
  // Open one operation and see its documented error shape.
  await page.getByText('/api/v1/findings', { exact: true }).first().click();
  await expect(page.getByText('Error', { exact: true }).first()).toBeVisible();

  const document = await page.request.get('/api/openapi.json');
  expect(document.status()).toBe(200);
  const body = await document.json();
  expect(body.openapi).toMatch(/^3\.1/);
  expect(Object.keys(body.paths)).toContain('/api/v1/findings');
});

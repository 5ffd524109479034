import { ADMIN, expect, hydrated, signIn, test } from './helpers';

test('signed-out visitors are sent to sign-in and come back to the page they asked for', async ({ page }) => {
  await page.goto('/assets?q=web');
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fassets%3Fq%3Dweb/);
  await hydrated(page);
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/assets\?q=web$/);
  await expect(page.getByRole('heading', { name: 'Assets' })).toBeVisible();
  await expect(page.getByRole('searchbox', { name: 'Search assets' })).toHaveValue('web');
});

test('a wrong password and an unknown email get the same message', async ({ page }) => {
  await page.goto('/sign-in');
  await hydrated(page);
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const error = page.getByTestId('sign-in-error');
  await expect(error).toHaveText('The email or password is incorrect.');

  await page.getByLabel('Email').fill('nobody@bulwark.local');
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(error).toHaveText('The email or password is incorrect.');
  await expect(page).toHaveURL(/\/sign-in/);
});

test('repeated failures are throttled', async ({ page }) => {
  await page.goto('/sign-in');
  await hydrated(page);
  await page.getByLabel('Email').fill('throttled@bulwark.local');
  for (let i = 0; i < 5; i++) {
    await page.getByLabel('Password').fill(`guess-${i}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByTestId('sign-in-error')).toHaveText('The email or password is incorrect.');
  }
  await page.getByLabel('Password').fill('guess-6');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('sign-in-error')).toContainText('Too many failed sign-in attempts');
});

test('sign out ends the session', async ({ page }) => {
  await signIn(page, ADMIN);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto('/settings/users');
  await expect(page).toHaveURL(/\/sign-in\?next=/);
});

test('the console files are named by their content and kept by the browser', async ({ page }) => {
  const files: { url: string; cacheControl: string | undefined }[] = [];
  page.on('response', (response) => {
    if (/\/pkg\//.test(response.url())) {
      files.push({ url: response.url(), cacheControl: response.headers()['cache-control'] });
    }
  });
  await page.goto('/sign-in');
  await hydrated(page);
  for (const kind of ['js', 'wasm', 'css']) {
    const file = files.find((f) => f.url.endsWith(`.${kind}`));
    expect(file, `the page loads its .${kind}`).toBeDefined();
    expect(file!.url).toMatch(new RegExp(`/pkg/bulwark\\.[A-Za-z0-9_-]{22}\\.${kind}$`));
    expect(file!.cacheControl).toBe('public, max-age=31536000, immutable');
  }
});

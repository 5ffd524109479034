import { expect, hydrated, test, VIEWER } from './helpers';

// The viewer's stored language is reset after the test, so the other specs see English.
test.afterEach(async ({ playwright, baseURL }) => {
  const request = await playwright.request.newContext({ baseURL });
  await request.post('/api/sign_in', { form: { email: VIEWER.email, password: VIEWER.password } });
  const reset = await request.post('/api/set_language', { form: { language: 'en' }, headers: { accept: 'application/json' } });
  expect(reset.status()).toBe(200);
  await request.dispose();
});

test('a user reads the console in Chinese, chosen once and kept on every browser', async ({ page, browser, baseURL }) => {
  await page.goto('/sign-in');
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();

  // Choosing on the sign-in page applies at once, and the server renders the next load in it.
  await page.getByTestId('language').selectOption('zh-CN');
  await expect(page.getByRole('heading', { name: '登录' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await page.reload();
  await expect(page.getByRole('heading', { name: '登录' })).toBeVisible();
  await hydrated(page);

  await page.getByLabel('邮箱').fill(VIEWER.email);
  await page.getByLabel('密码').fill('not-the-password');
  await page.getByRole('button', { name: '登录' }).click();
  await expect(page.getByTestId('sign-in-error')).toHaveText('邮箱或密码不正确。');
  await page.getByLabel('密码').fill(VIEWER.password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL(/\/$/, { waitUntil: 'load' });
  await hydrated(page);
  const nav = page.getByRole('navigation', { name: '控制台' });
  await expect(nav.getByRole('link', { name: '资产中心' })).toBeVisible();
  await expect(page.getByRole('heading', { name: '总览', level: 1 })).toBeVisible();
  await expect(page.getByRole('heading', { name: '安全评分' })).toBeVisible();
  await expect(page.getByTestId('risk-table').getByRole('columnheader', { name: '严重' })).toBeVisible();

  // The header's selector switches without a reload, and saves the choice with the user.
  const selector = page.getByRole('combobox', { name: '语言' });
  await selector.selectOption('en');
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  const saved = page.waitForResponse((r) => r.url().endsWith('/api/set_language') && r.status() === 200);
  await page.getByRole('combobox', { name: 'Language' }).selectOption('zh-CN');
  await saved;
  await expect(page.getByRole('heading', { name: '总览', level: 1 })).toBeVisible();

  // One page of each area, rendered by the server in Chinese and hydrated without a mismatch.
  // (The demo account has not authorized the key service or the resource directory: those pages
  // show their heading and the authorization step, which the viewer cannot take.)
  const areas: [string, string, string][] = [
    ['/assets', '资产', 'IP 地址'],
    ['/operation/reports', '安全报告', '报告名称'],
    ['/playbook/tasks', '任务管理', '执行次数'],
    ['/precaution/container-signature', '容器镜像签名', '安全策略'],
    ['/operation/multi-account', '多账号管控', '请联系本账号的管理员进行授权。'],
    ['/settings/users', '设置', '邮箱'],
  ];
  for (const [path, heading, text] of areas) {
    await page.goto(path);
    await hydrated(page);
    await expect(page.getByRole('heading', { name: heading, level: 1 })).toBeVisible();
    await expect(page.getByRole('main').getByText(text, { exact: true }).first()).toBeVisible();
  }

  // Another browser, without the cookie: English until the user signs in, then their language.
  const elsewhere = await browser.newContext({ baseURL, locale: 'en-US' });
  const other = await elsewhere.newPage();
  await other.goto('/sign-in');
  await hydrated(other);
  await expect(other.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await other.getByLabel('Email').fill(VIEWER.email);
  await other.getByLabel('Password').fill(VIEWER.password);
  await other.getByRole('button', { name: 'Sign in' }).click();
  await other.waitForURL(/\/$/, { waitUntil: 'load' });
  await expect(other.getByRole('heading', { name: '总览', level: 1 })).toBeVisible();
  await expect(other.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await elsewhere.close();
});

test('a browser that asks for Chinese gets it before anyone chooses', async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL, locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto('/sign-in');
  await expect(page.getByRole('heading', { name: '登录' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await context.close();
});

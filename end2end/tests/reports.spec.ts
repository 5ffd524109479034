import { ADMIN, VIEWER, expect, goto, signIn, test } from './helpers';

// Node's fs, for reading what the SMTP sink received (the config starts it); the
// devDependencies carry no @types/node.
declare function require(name: string): any;
const fs = require('fs');
const path = require('path');
const MAIL_DIR = path.join(__dirname, '..', '..', '.tmp', 'e2e-mail');

function received(): { to: string; raw: string }[] {
  if (!fs.existsSync(MAIL_DIR)) return [];
  return fs
    .readdirSync(MAIL_DIR)
    .filter((f: string) => f.endsWith('.eml'))
    .map((f: string) => {
      const raw = fs.readFileSync(path.join(MAIL_DIR, f), 'utf8');
      return { to: raw.split('\r\n')[0].replace('X-Envelope-To: ', ''), raw };
    });
}

const row = (page, name: string) => page.getByTestId('report-table').locator(`tr[data-report="${name}"]`);

test.describe.configure({ mode: 'serial' });

test('the wizard creates a report, step by step, with messages beside each field', async ({ page }) => {
  await signIn(page, ADMIN, '/operation/reports');
  // The default report waits for recipients and says so.
  await expect(row(page, 'Default security report')).toContainText('None yet: no mail is sent');
  await expect(row(page, 'Default security report')).toContainText('Default');

  await page.getByRole('link', { name: 'Create Report' }).click();
  await expect(page.getByRole('heading', { name: 'Create report' })).toBeVisible();
  const step1 = page.getByTestId('wizard-step-1');
  await step1.getByRole('button', { name: 'Next' }).click();
  await expect(page.locator('[data-field=name]')).toHaveText('Enter a report name.');
  await expect(page.locator('[data-field=recipients]')).toHaveText('Add at least one recipient.');

  // Custom reports need their period.
  await page.getByLabel('Report Type').selectOption('custom');
  await page.getByLabel('Report Name').fill('SOC daily');
  await page.getByLabel('Recipients').fill('soc@bulwark.local, lead@bulwark.local, SOC@bulwark.local, nope');
  await step1.getByRole('button', { name: 'Next' }).click();
  await expect(page.locator('[data-field=custom_start]')).toHaveText('Enter the first day of the data collection period.');
  await expect(page.locator('[data-field=recipients]')).toHaveText('“nope” is not a valid email address.');

  await page.getByLabel('Report Type').selectOption('daily');
  await expect(page.getByLabel('Data Collection Period: start')).toHaveCount(0);
  await page.getByLabel('Report Time').selectOption('12-18');
  await page.getByLabel('Recipients').fill('soc@bulwark.local, lead@bulwark.local, SOC@bulwark.local');
  await step1.getByRole('button', { name: 'Next' }).click();

  const step2 = page.getByTestId('wizard-step-2');
  for (const box of await step2.getByRole('checkbox').all()) await box.uncheck();
  await step2.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('[data-field=sections]')).toHaveText('Choose at least one section.');
  await step2.getByLabel('Assets').check();
  await step2.getByLabel('Alerts').check();
  await step2.getByLabel('Vulnerabilities: Linux software').check();
  await step2.getByRole('button', { name: 'Save' }).click();

  await expect(page.locator('.toast-success').filter({ hasText: 'Report created.' })).toBeVisible();
  await expect(page).toHaveURL(/\/operation\/reports$/);
  const created = row(page, 'SOC daily');
  await expect(created).toContainText('Daily');
  await expect(created).toContainText('12:00–18:00 (UTC)');
  // Duplicates (any case) were removed.
  await expect(created.locator('td.recipients')).toHaveText('soc@bulwark.local, lead@bulwark.local');
  await expect(created.locator('td.sections')).toHaveText('Assets, Alerts, Linux vulns');
});

test('edit, clone, toggle, filter and delete', async ({ page }) => {
  await signIn(page, ADMIN, '/operation/reports');
  await row(page, 'SOC daily').getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByLabel('Report Name')).toHaveValue('SOC daily');
  await expect(page.getByLabel('Report Time')).toHaveValue('12-18');
  await page.getByLabel('Report Name').fill('SOC daily digest');
  await page.getByTestId('wizard-step-1').getByRole('button', { name: 'Next' }).click();
  await expect(page.getByTestId('wizard-step-2').getByLabel('Alerts')).toBeChecked();
  await expect(page.getByTestId('wizard-step-2').getByLabel('Attacks')).not.toBeChecked();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Report saved.' })).toBeVisible();
  await expect(row(page, 'SOC daily digest')).toBeVisible();

  await row(page, 'SOC daily digest').getByRole('link', { name: 'Clone' }).click();
  await expect(page.getByRole('heading', { name: 'Clone report' })).toBeVisible();
  await expect(page.getByLabel('Report Name')).toHaveValue('SOC daily digest (copy)');
  await page.getByTestId('wizard-step-1').getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Report created.' })).toBeVisible();
  const copy = row(page, 'SOC daily digest (copy)');
  await expect(copy).toBeVisible();

  // Disable the copy: it stops being scheduled.
  await copy.locator('label.toggle').click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Report updated.' })).toBeVisible();
  await expect(copy.getByRole('switch')).not.toBeChecked();
  await expect(copy).toContainText('—');

  // Filters live in the URL.
  await page.getByLabel('Status').selectOption('disabled');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/status=disabled/);
  await expect(page.getByTestId('report-table').locator('tbody tr')).toHaveCount(1);
  await expect(copy).toBeVisible();
  await goto(page, '/operation/reports?name=DIGEST&type=daily');
  await expect(page.getByTestId('report-table').locator('tbody tr')).toHaveCount(2);
  await goto(page, '/operation/reports?type=monthly');
  await expect(page.getByTestId('report-table').locator('tbody tr')).toHaveCount(1);
  await expect(row(page, 'Monthly board report')).toBeVisible();
  await page.getByRole('link', { name: 'Clear' }).click();
  await expect(page.getByTestId('report-table').locator('tbody tr')).toHaveCount(4);

  // The default report cannot be deleted or change type.
  await expect(row(page, 'Default security report').getByRole('button', { name: 'Delete' })).toHaveCount(0);
  await row(page, 'Default security report').getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByLabel('Report Type')).toBeDisabled();
  await goto(page, '/operation/reports');

  await row(page, 'SOC daily digest (copy)').getByRole('button', { name: 'Delete' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete report' });
  await expect(dialog).toContainText('Delete "SOC daily digest (copy)"?');
  await dialog.getByRole('button', { name: 'Delete report' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Report deleted.' })).toBeVisible();
  await expect(row(page, 'SOC daily digest (copy)')).toHaveCount(0);
});

test('send now mails every recipient; the archive shows the report, its PDF and CSVs', async ({ page }) => {
  await signIn(page, ADMIN, '/operation/reports');
  const before = received().length;
  await row(page, 'SOC daily digest').getByRole('button', { name: 'Send Now' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Sent to soc@bulwark.local, lead@bulwark.local.' })).toBeVisible({ timeout: 20_000 });
  // The SMTP server received one copy per recipient, with the PDF attached.
  const mail = received().slice(before);
  expect(mail.map((m) => m.to).sort()).toEqual(['lead@bulwark.local', 'soc@bulwark.local']);
  for (const m of mail) {
    expect(m.raw).toContain('application/pdf');
    expect(m.raw).toContain('image/png');
    expect(m.raw).toContain('Subject: [Bulwark] SOC daily digest');
  }

  await row(page, 'SOC daily digest').getByRole('link', { name: 'History' }).click();
  const log = page.getByTestId('delivery-table');
  await expect(log.locator('tbody tr')).toHaveCount(1);
  await expect(log).toContainText('Sent');
  await expect(log).toContainText('Send now');
  await expect(log).toContainText('queued as sink-');
  await log.getByRole('link', { name: 'View' }).click();

  await expect(page.getByRole('heading', { name: 'SOC daily digest' })).toBeVisible();
  await expect(page.getByTestId('report-summary')).toContainText('Vulnerabilities');
  await expect(page.getByTestId('report-score')).toHaveText(/^\d+/);
  // The footnote says how every number is counted, as the email and the PDF do.
  const notes = page.getByTestId('counting-notes');
  await expect(notes.getByRole('heading', { name: 'How these numbers are counted' })).toBeVisible();
  await expect(notes).toContainText('A check that has only ever passed was never a risk.');
  await expect(notes).toContainText('fixed or ignored in the period');
  const assets = page.locator('section[data-section=assets]');
  await expect(assets.locator('.report-chart svg')).toHaveCount(1);
  await expect(assets.locator('tbody tr').first()).toBeVisible();

  const pdf = await page.request.get(await page.getByRole('link', { name: 'Download PDF' }).getAttribute('href'));
  expect(pdf.status()).toBe(200);
  expect(pdf.headers()['content-type']).toBe('application/pdf');
  expect((await pdf.body()).subarray(0, 5).toString()).toBe('%PDF-');
  const csv = await page.request.get(await assets.getByRole('link', { name: 'CSV' }).getAttribute('href'));
  expect(csv.status()).toBe(200);
  expect(await csv.text()).toMatch(/^Asset,IP addresses,OS,Vulnerabilities,Alerts,Baseline risks,Total\r\n/);

  // The archive lists it too.
  await goto(page, '/operation/reports');
  await page.getByRole('link', { name: 'Archive' }).click();
  await expect(page.getByTestId('archive-table').locator('tbody tr').first()).toContainText('SOC daily digest');
});

test('each recipient reads the report in their language: a user who chose Chinese gets the Chinese copy', async ({ page, playwright, baseURL }) => {
  // The viewer chooses Chinese (the language spec clicks the selector; here it is set up).
  const viewer = await playwright.request.newContext({ baseURL });
  await viewer.post('/api/sign_in', { form: VIEWER });
  const language = (tag: string) => viewer.post('/api/set_language', { form: { language: tag }, headers: { accept: 'application/json' } });
  expect((await language('zh-CN')).status()).toBe(200);
  try {
    await signIn(page, ADMIN, '/operation/reports');
    await row(page, 'Monthly board report').getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('Recipients').fill('board@bulwark.local, viewer@bulwark.local');
    await page.getByTestId('wizard-step-1').getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.locator('.toast-success').filter({ hasText: 'Report saved.' })).toBeVisible();

    const before = received().length;
    await row(page, 'Monthly board report').getByRole('button', { name: 'Send Now' }).click();
    await expect(page.locator('.toast-success').filter({ hasText: 'Sent to board@bulwark.local, viewer@bulwark.local.' })).toBeVisible({ timeout: 30_000 });
    expect(received().slice(before).map((m) => m.to).sort()).toEqual(['board@bulwark.local', 'viewer@bulwark.local']);

    // The history shows one copy per language, each with its own document.
    await row(page, 'Monthly board report').getByRole('link', { name: 'History' }).click();
    const log = page.getByTestId('delivery-table');
    await expect(log).toContainText('en: 250');
    await expect(log).toContainText('zh-CN: 250');
    const chinese = log.locator('.copy').filter({ hasText: '简体中文' });
    await expect(chinese).toHaveAttribute('title', 'viewer@bulwark.local');
    await expect(log.locator('.copy').filter({ hasText: 'English' })).toHaveAttribute('title', 'board@bulwark.local');
    await chinese.getByRole('link', { name: 'View' }).click();
    await expect(page.getByRole('heading', { name: 'Monthly board report' })).toBeVisible();
    await expect(page.locator('section[data-section=assets]')).toContainText('资产');

    // The archive names each document's language.
    await goto(page, '/operation/reports/archive');
    const archive = page.getByTestId('archive-table');
    await expect(archive.locator('tbody tr').filter({ hasText: 'Monthly board report' })).toHaveCount(2);
    await expect(archive.locator('tbody tr').filter({ hasText: 'Monthly board report' }).filter({ hasText: '简体中文' })).toHaveCount(1);
  } finally {
    expect((await language('en')).status()).toBe(200);
    await viewer.dispose();
  }
});

test('viewers see reports but cannot change or send them', async ({ page }) => {
  await signIn(page, VIEWER, '/operation/reports');
  await expect(row(page, 'Monthly board report')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Create Report' })).toHaveCount(0);
  await expect(row(page, 'Monthly board report').getByRole('switch')).toBeDisabled();
  await expect(row(page, 'Monthly board report').getByRole('button', { name: 'Send Now' })).toHaveCount(0);
  await expect(row(page, 'Monthly board report').getByRole('link', { name: 'History' })).toBeVisible();
});

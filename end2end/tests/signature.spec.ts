import { ADMIN, expect, hydrated, reload, signIn, test } from './helpers';

// Node's modules, without @types/node in the devDependencies.
declare function require(name: string): any;
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.resolve('..');
const WORK = path.join(ROOT, '.tmp', 'e2e-signature');
const FIXTURES = path.join(ROOT, 'tests', 'fixtures', 'admission');
const WEB = 'registry.example.com/shop/web@sha256:2604318952e369ea3a3f2f8538abc46fab24fb653f3f146194b1cae2342d5086';
const BASE = '/precaution/container-signature';

/** The API server's side: posts an AdmissionReview fixture to the hook and returns its answer. */
async function review(page, url: string, fixture: string) {
  const body = fs.readFileSync(path.join(FIXTURES, fixture), 'utf8');
  const answer = await page.request.post(url, { data: body, headers: { 'Content-Type': 'application/json' } });
  expect(answer.status()).toBe(200);
  return (await answer.json()).response;
}

test('key → witness → cluster with its hook → enabled policy → signed image is a Trusted Image', async ({ page }) => {
  test.setTimeout(120_000);
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  await signIn(page, ADMIN, `${BASE}/keys`);
  // Another spec revokes the authorization at its end: give it again when asked.
  const ask = page.getByTestId('authorize');
  if (await ask.isVisible()) {
    await ask.getByRole('button', { name: 'Authorize' }).click();
  }

  // Keys: a bad alias is refused beside the field, then an RSA_2048 signing key is created.
  const create = page.getByTestId('create-key');
  await create.getByLabel('Alias').fill('ci build');
  await create.getByRole('button', { name: 'Create key' }).click();
  await expect(page.locator('[data-field=key-alias]')).toHaveText("Use letters, digits, '-', '_' and '/' only.");
  await create.getByLabel('Alias').fill('ci-build');
  await create.getByLabel('Key Spec').selectOption('RSA_2048');
  await create.getByLabel('Purpose').selectOption('SIGN/VERIFY');
  await create.getByRole('button', { name: 'Create key' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Key created.' })).toBeVisible({ timeout: 20_000 });
  const keyRow = page.getByTestId('keys-table').getByRole('row', { name: /ci-build/ });
  await expect(keyRow).toContainText('Enabled');
  await expect(keyRow).toContainText('v1 (primary)');
  const publicKeyHref = await keyRow.getByRole('link', { name: 'Public key' }).getAttribute('href');

  // Witness: the certificate list offers the new key.
  await page.getByRole('main').getByRole('link', { name: 'Witness' }).click();
  const witnessForm = page.getByTestId('create-witness');
  await witnessForm.getByRole('button', { name: 'Create a witness' }).click();
  await expect(page.locator('[data-field=witness-name]')).toHaveText('Name the witness.');
  await witnessForm.getByLabel('Witness').fill('build');
  const keyOption = witnessForm.locator('option', { hasText: 'ci-build' });
  await witnessForm.getByLabel('Select a certificate').selectOption((await keyOption.getAttribute('value')) as string);
  await witnessForm.getByLabel('Description').fill('Signed by the CI pipeline');
  await witnessForm.getByRole('button', { name: 'Create a witness' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Witness created.' })).toBeVisible();
  await expect(page.getByTestId('witnesses-table')).toContainText('Signed by the CI pipeline');

  // Cluster: registered, its hook configuration shown, then installed by the API server's first call.
  await page.getByRole('main').getByRole('link', { name: 'Clusters' }).click();
  const clusterForm = page.getByTestId('cluster-form');
  await clusterForm.getByLabel('Cluster name').fill('prod-eu');
  await clusterForm.getByLabel('Region').fill('eu-central-1');
  await clusterForm.getByLabel('Namespaces').fill('Shop');
  await clusterForm.getByRole('button', { name: 'Register cluster' }).click();
  await expect(page.locator('[data-field=cluster-namespaces]')).toContainText('is not a namespace name');
  await clusterForm.getByLabel('Namespaces').fill('shop, dev');
  await clusterForm.getByRole('button', { name: 'Register cluster' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Cluster saved.' })).toBeVisible();
  const clusterRow = page.getByTestId('clusters-table').getByRole('row', { name: /prod-eu/ });
  await expect(clusterRow.getByTestId('hook-state')).toHaveText('Not installed');
  await clusterRow.getByRole('button', { name: 'Install validation hook' }).click();
  const yaml = page.getByTestId('hook-yaml');
  await expect(yaml).toContainText('kind: ValidatingWebhookConfiguration');
  await expect(yaml).toContainText('failurePolicy: Fail');
  const url = (await yaml.innerText()).match(/url: "?([^"\s]+)"?/)[1];
  await page.getByRole('dialog', { name: 'Install validation hook' }).getByRole('button', { name: 'Close' }).click();
  const hookPath = new URL(url).pathname;
  expect((await review(page, hookPath, 'pod-unsigned.json')).allowed).toBe(true);
  await reload(page);
  await expect(clusterRow.getByTestId('hook-state')).toContainText('Installed');

  // Security policy: off by default, then switched on in the table.
  await page.getByRole('main').getByRole('link', { name: 'Security Policy' }).click();
  await page.getByRole('button', { name: 'Add Policy' }).click();
  const policyForm = page.getByTestId('policy-form');
  await policyForm.getByRole('button', { name: 'Save policy' }).click();
  await expect(page.locator('[data-field=witnesses]')).toHaveText('Choose at least one witness.');
  await policyForm.getByLabel('Policy Name').fill('prod-shop');
  await policyForm.getByRole('group', { name: 'Witnesses' }).getByLabel('build').check();
  await policyForm.getByLabel('Application Cluster').selectOption({ label: 'prod-eu' });
  await policyForm.getByRole('group', { name: 'Cluster Namespaces' }).getByLabel('shop').check();
  await expect(policyForm.getByLabel('Policy Enabled')).not.toBeChecked();
  await policyForm.getByLabel('Remarks').fill('Only CI-built images in the shop');
  await policyForm.getByRole('button', { name: 'Save policy' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Policy saved.' })).toBeVisible();
  const policyRow = page.getByTestId('policies-table').getByRole('row', { name: /prod-shop/ });
  const enabled = policyRow.getByRole('switch', { name: 'Enable prod-shop' });
  await expect(enabled).not.toBeChecked();
  await policyRow.locator('label.toggle').click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Policy updated.' })).toBeVisible();
  await expect(enabled).toBeChecked();

  // Sign the web image by digest from the Images tab: it becomes a Trusted Image.
  await page.getByRole('main').getByRole('link', { name: 'Images' }).click();
  const signForm = page.getByTestId('sign-image');
  await signForm.getByLabel('Image', { exact: true }).fill('registry.example.com/shop/web:1.4.2');
  await signForm.getByLabel('Witness').selectOption('build');
  await signForm.getByRole('button', { name: 'Sign' }).click();
  await expect(page.locator('[data-field=sign-image-ref]')).toContainText('Sign an image by digest');
  await signForm.getByLabel('Image', { exact: true }).fill(WEB);
  await signForm.getByRole('button', { name: 'Sign' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Image signed.' })).toBeVisible();
  const outcome = page.getByTestId('sign-outcome');
  await expect(outcome).toContainText('as build');
  const webRow = page.getByTestId('images-table').getByRole('row', { name: /shop\/web/ });
  await expect(webRow).toContainText('Trusted Image');
  await expect(page.getByTestId('images-table').getByRole('row', { name: /shop\/tools/ })).toContainText('Unsigned');

  // The exported payload and signature verify with openssl against the downloaded public key.
  const download = async (href: string, file: string) => {
    const response = await page.request.get(href);
    expect(response.status()).toBe(200);
    fs.writeFileSync(path.join(WORK, file), await response.body());
  };
  await download(publicKeyHref, 'build.pem');
  await download(await outcome.getByRole('link', { name: 'Download payload' }).getAttribute('href'), 'payload.json');
  await download(await outcome.getByRole('link', { name: 'Download signature' }).getAttribute('href'), 'payload.sig');
  const verified = execFileSync('openssl', ['dgst', '-sha256', '-verify', 'build.pem', '-signature', 'payload.sig', 'payload.json'], { cwd: WORK }).toString();
  expect(verified.trim()).toBe('Verified OK');

  // The search narrows the table and stays in the address, with the count under the table.
  await page.getByLabel('Search images').fill('shop/web');
  await page.getByLabel('Search images').press('Enter');
  await expect(page).toHaveURL(/images\?q=shop%2Fweb/);
  await expect(page.getByTestId('images-table').getByRole('row', { name: /shop\/tools/ })).toHaveCount(0);
  await expect(webRow).toContainText('Trusted Image');
  await expect(page.getByRole('navigation', { name: 'Pagination' })).toContainText('Page 1 of 1');

  // The hook now admits the signed pod and rejects the unsigned one; the log says why.
  expect((await review(page, hookPath, 'pod-signed.json')).allowed).toBe(true);
  const denied = await review(page, hookPath, 'pod-unsigned.json');
  expect(denied.allowed).toBe(false);
  expect(denied.status.message).toContain('unsigned');
  // The search above reloaded the page: wait for hydration before the client-side navigation,
  // or the link is followed as a full load and the outcome choice is lost.
  await hydrated(page);
  await page.getByRole('main').getByRole('link', { name: 'Admission log' }).click();
  await hydrated(page);
  await page.getByLabel('Outcome').selectOption('denied');
  const log = page.getByTestId('decisions-table');
  await expect(log).toContainText('Denied');
  await expect(log).toContainText('registry.example.com/shop/tools@sha256:b9a5c863');
  await expect(log).not.toContainText('Allowed');
});

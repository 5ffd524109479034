import { ADMIN, VIEWER, expect, hydrated, signIn, test } from './helpers';

// Node's modules, without @types/node in the devDependencies.
declare function require(name: string): any;
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const BASE = '/precaution/container-signature';
const FIXTURES = path.join(path.resolve('..'), 'tests', 'fixtures', 'admission');
// Unique per run: the console under test keeps what earlier specs (and runs) created.
const RUN = `${Date.now().toString(36)}${crypto.randomBytes(2).toString('hex')}`;
const NAME = `vuln-${RUN}`;
const REPO = `registry.example.com/vuln-${RUN}/api`;
const digestOf = (text: string) => crypto.createHash('sha256').update(text).digest('hex');
const IMAGE = `${REPO}@sha256:${digestOf(RUN)}`;
const NAMESPACE = 'payments';
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A `trivy image --format json` report of IMAGE: one critical, two high, one medium, one low. */
function trivyReport() {
  const finding = (id: string, pkg: string, installed: string, fixed: string, severity: string, title: string) => ({
    VulnerabilityID: id, PkgName: pkg, InstalledVersion: installed, FixedVersion: fixed, Severity: severity, Title: title,
  });
  return {
    SchemaVersion: 2,
    CreatedAt: new Date().toISOString(),
    ArtifactName: `${REPO}:1.0`,
    ArtifactType: 'container_image',
    Metadata: { RepoDigests: [IMAGE] },
    Results: [{
      Target: `${REPO}:1.0 (debian 12.5)`, Class: 'os-pkgs', Type: 'debian',
      Vulnerabilities: [
        finding('CVE-2024-6387', 'openssh-server', '1:9.2p1-2', '1:9.2p1-2+deb12u3', 'CRITICAL', 'openssh: regreSSHion'),
        finding('CVE-2023-4911', 'libc6', '2.36-9', '2.36-9+deb12u3', 'HIGH', 'glibc: Looney Tunables'),
        finding('CVE-2024-2961', 'libc6', '2.36-9', '2.36-9+deb12u7', 'HIGH', 'glibc: iconv out-of-bounds write'),
        finding('CVE-2023-45853', 'zlib1g', '1:1.2.13.dfsg-1', '', 'MEDIUM', 'zlib: integer overflow in zipOpenNewFileInZip4_6'),
        finding('CVE-2011-3374', 'apt', '2.6.1', '', 'LOW', 'apt: weak key validation'),
      ],
    }],
  };
}

/** What the API server sends the hook when a pod of `image` is created in NAMESPACE. */
function podReview(pod: string, image: string) {
  const review = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'pod-unsigned.json'), 'utf8'));
  const request = review.request;
  request.uid = crypto.randomUUID();
  request.name = pod;
  request.namespace = NAMESPACE;
  request.object.metadata = { ...request.object.metadata, name: pod, namespace: NAMESPACE, uid: crypto.randomUUID() };
  request.object.spec.containers[0].name = 'api';
  request.object.spec.containers[0].image = image;
  return review;
}

test('a vulnerability rule refuses an image over its limits, except what an exception lets pass', async ({ page, browser, baseURL }) => {
  test.setTimeout(240_000);
  const review = async (hookPath: string, pod: string) => {
    const answer = await page.request.post(hookPath, { data: podReview(pod, IMAGE) });
    expect(answer.status()).toBe(200);
    return (await answer.json()).response;
  };

  await signIn(page, ADMIN, `${BASE}/keys`);
  // Another spec revokes the authorization at its end: give it again when asked.
  const ask = page.getByTestId('authorize');
  await expect(ask.or(page.getByTestId('create-key'))).toBeVisible();
  if (await ask.isVisible()) {
    await ask.getByRole('button', { name: 'Authorize' }).click();
  }

  // A key and a witness to sign the image with, so that only its vulnerabilities can refuse it.
  const createKey = page.getByTestId('create-key');
  await createKey.getByLabel('Alias').fill(NAME);
  await createKey.getByRole('button', { name: 'Create key' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Key created.' })).toBeVisible({ timeout: 20_000 });
  await page.getByRole('main').getByRole('link', { name: 'Witness' }).click();
  const witnessForm = page.getByTestId('create-witness');
  await witnessForm.getByLabel('Witness').fill(NAME);
  const keyOption = witnessForm.locator('option', { hasText: NAME });
  await witnessForm.getByLabel('Select a certificate').selectOption((await keyOption.getAttribute('value')) as string);
  await witnessForm.getByRole('button', { name: 'Create a witness' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Witness created.' })).toBeVisible();

  // A cluster whose hook calls in once (no policy yet: the pod is admitted).
  await page.getByRole('main').getByRole('link', { name: 'Clusters' }).click();
  const clusterForm = page.getByTestId('cluster-form');
  await clusterForm.getByLabel('Cluster name').fill(NAME);
  await clusterForm.getByLabel('Region').fill('eu-west-1');
  await clusterForm.getByLabel('Namespaces').fill(`${NAMESPACE}, dev`);
  await clusterForm.getByRole('button', { name: 'Register cluster' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Cluster saved.' })).toBeVisible();
  const clusterRow = page.getByTestId('clusters-table').getByRole('row', { name: new RegExp(escape(NAME)) });
  await clusterRow.getByRole('button', { name: 'Install validation hook' }).click();
  const yaml = page.getByTestId('hook-yaml');
  await expect(yaml).toContainText('kind: ValidatingWebhookConfiguration');
  const hookPath = new URL(((await yaml.innerText()).match(/url: "?([^"\s]+)"?/) as RegExpMatchArray)[1]).pathname;
  await page.getByRole('dialog', { name: 'Install validation hook' }).getByRole('button', { name: 'Close' }).click();
  expect((await review(hookPath, `warmup-${RUN}`)).allowed).toBe(true);

  // The image is signed by the witness.
  await page.getByRole('main').getByRole('link', { name: 'Images' }).click();
  const signForm = page.getByTestId('sign-image');
  await signForm.getByLabel('Image', { exact: true }).fill(IMAGE);
  await signForm.getByLabel('Witness').selectOption(NAME);
  await signForm.getByRole('button', { name: 'Sign' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Image signed.' })).toBeVisible();

  // Exceptions: problems show beside their fields, in the browser and from the server.
  await page.getByRole('main').getByRole('link', { name: 'Exceptions' }).click();
  await page.getByRole('button', { name: 'Add exception' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add an exception' });
  await dialog.getByRole('button', { name: 'Save exception' }).click();
  await expect(page.locator('[data-field=exception-vulnerability]')).toHaveText('Enter the vulnerability id, e.g. CVE-2024-3094.');
  await expect(page.locator('[data-field=exception-reason]')).toHaveText('Say why the vulnerability may pass.');
  await expect(page.locator('[data-field=exception-expires]')).toContainText('Choose the last day');
  const lastDay = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  await dialog.getByLabel('Vulnerability ID').fill('CVE-2024-2961');
  await dialog.getByLabel('Repository').fill(`${REPO}:1.0`);
  await dialog.getByLabel('Reason').fill('iconv is not reachable: the service never converts to ISO-2022-CN-EXT');
  await dialog.getByLabel('Last day it applies').fill(lastDay);
  await dialog.getByRole('button', { name: 'Save exception' }).click();
  await expect(page.locator('[data-field=exception-repository]')).toContainText('without a tag or digest');
  await dialog.getByLabel('Repository').fill(REPO);
  await dialog.getByRole('button', { name: 'Save exception' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Exception added.' })).toBeVisible();
  await expect(dialog).toHaveCount(0);
  const exceptions = page.getByTestId('exceptions-table');
  const kept = exceptions.getByRole('row', { name: new RegExp(`CVE-2024-2961.*${escape(REPO)}`) });
  await expect(kept).toContainText('Active');
  await expect(kept).toContainText(lastDay);
  await expect(kept).toContainText('admin@bulwark.local');

  // One for every repository, removed again after a confirmation.
  await page.getByRole('button', { name: 'Add exception' }).click();
  await dialog.getByLabel('Vulnerability ID').fill('CVE-2023-4911');
  await dialog.getByLabel('Reason').fill('Accepted until the base image is rebuilt');
  await dialog.getByLabel('Last day it applies').fill(lastDay);
  await dialog.getByRole('button', { name: 'Save exception' }).click();
  await expect(dialog).toHaveCount(0);
  const everywhere = exceptions.getByRole('row', { name: /CVE-2023-4911/ });
  await expect(everywhere).toContainText('All repositories');
  await everywhere.getByRole('button', { name: 'Remove' }).click();
  const confirm = page.getByRole('dialog', { name: 'Remove exception' });
  await expect(confirm).toContainText('CVE-2023-4911 (All repositories)');
  await confirm.getByRole('button', { name: 'Remove' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Exception removed.' })).toBeVisible();
  await expect(everywhere).toHaveCount(0);
  await expect(kept).toContainText('Active');

  // A policy that refuses images with findings at or above high, beside its signature rule.
  await page.getByRole('main').getByRole('link', { name: 'Security Policy' }).click();
  await page.getByRole('button', { name: 'Add Policy' }).click();
  const policyForm = page.getByTestId('policy-form');
  await policyForm.getByLabel('Policy Name').fill(NAME);
  await policyForm.getByRole('group', { name: 'Witnesses' }).getByLabel(NAME, { exact: true }).check();
  await policyForm.getByLabel('Application Cluster').selectOption({ label: NAME });
  await policyForm.getByRole('group', { name: 'Cluster Namespaces' }).getByLabel(NAMESPACE).check();
  await policyForm.getByLabel('Policy Enabled').check();
  await expect(policyForm.getByLabel('Minimum severity')).toHaveCount(0);
  await policyForm.getByLabel('When an image has vulnerabilities').selectOption('refuse');
  await policyForm.getByLabel('Minimum severity').selectOption('high');
  await expect(policyForm.getByLabel('Medium', { exact: true })).toBeDisabled();
  await policyForm.getByLabel('High', { exact: true }).fill('-1');
  await policyForm.getByRole('button', { name: 'Save policy' }).click();
  await expect(page.locator('[data-field=vuln-allowed-high]')).toHaveText('Enter a whole number from 0 to 100000, or leave it blank for 0.');
  await policyForm.getByLabel('High', { exact: true }).fill('');
  await policyForm.getByRole('button', { name: 'Save policy' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Policy saved.' })).toBeVisible();
  const policyRow = page.getByTestId('policies-table').getByRole('row', { name: new RegExp(escape(NAME)) });
  await expect(policyRow.getByTestId('vuln-rule-cell')).toContainText('Refuse ≥ High');

  // An API token for the scanner, made in the browser and shown once.
  await page.goto('/settings/tokens');
  await hydrated(page);
  await page.getByLabel('Token name').fill(`scanner ${RUN}`);
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.getByTestId('new-token')).toHaveText(/^blk_[0-9a-f]{64}$/);
  const token = await page.getByTestId('new-token').innerText();
  const auth = { Authorization: `Bearer ${token}` };

  // The pipeline uploads the Trivy report: a report of another digest is refused, this one stored.
  const other = await page.request.post(`/api/v1/images/scans?image=${encodeURIComponent(`${REPO}@sha256:${digestOf(`${RUN}-other`)}`)}`, {
    headers: auth, data: trivyReport(),
  });
  expect(other.status()).toBe(422);
  expect((await other.json()).fields.image).toContain('not of');
  const upload = await page.request.post(`/api/v1/images/scans?image=${encodeURIComponent(IMAGE)}`, { headers: auth, data: trivyReport() });
  expect(upload.status()).toBe(201);
  expect(await upload.json()).toMatchObject({ image: IMAGE, vulnerabilities: 5, matched_by_osv: 0, replaced: false });

  // The signed pod is refused for its vulnerabilities; the excepted one is not named.
  const pod = `api-${RUN}`;
  const denied = await review(hookPath, pod);
  expect(denied.allowed).toBe(false);
  expect(denied.status.message).toContain('1 critical, 1 high known vulnerabilities at or above high (CVE-2024-6387, CVE-2023-4911)');
  expect(denied.status.message).not.toContain('CVE-2024-2961');
  expect(denied.status.message).not.toContain('unsigned');

  // The Admission log shows the refusal and why (decisions are written a few seconds behind).
  await page.goto(`${BASE}/decisions`);
  await hydrated(page);
  await page.getByLabel('Outcome').selectOption('denied');
  const logRow = page.getByTestId('decisions-table').getByRole('row', { name: new RegExp(escape(pod)) });
  await expect(async () => {
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect(logRow).toContainText('Denied', { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await expect(logRow).toContainText('CVE-2024-6387');
  await expect(logRow).toContainText(IMAGE);

  // The Images tab: filtered to vulnerable images of the cluster's namespace, kept in the address.
  await page.getByRole('main').getByRole('link', { name: 'Images' }).click();
  const filters = page.getByTestId('image-filters');
  await filters.getByLabel('Search images').fill(REPO);
  await filters.getByLabel('Cluster').selectOption({ label: NAME });
  await filters.getByLabel('Namespace').selectOption(NAMESPACE);
  await filters.getByLabel('Vulnerable (critical or high)').check();
  await filters.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/cluster=\d+&ns=payments&vulnerable=1/);
  await hydrated(page);
  await expect(filters.getByLabel('Vulnerable (critical or high)')).toBeChecked();
  await expect(filters.getByLabel('Namespace')).toHaveValue(NAMESPACE);
  const images = page.getByTestId('images-table');
  const imageRow = images.getByRole('row', { name: new RegExp(escape(REPO)) });
  await expect(imageRow).toHaveCount(1);
  const scan = imageRow.getByTestId('image-scan');
  await expect(scan.locator('.sev-mini.sev-critical')).toHaveText('1');
  await expect(scan.locator('.sev-mini.sev-high')).toHaveText('2');
  await expect(scan.locator('.sev-mini.sev-medium')).toHaveText('1');
  await expect(scan.locator('.sev-mini.sev-low')).toHaveText('1');
  await expect(imageRow.getByTestId('image-decision')).toHaveText('Denied');
  await expect(imageRow.getByTestId('image-runs')).toContainText(`${NAME} / ${NAMESPACE}`);
  await expect(imageRow.getByTestId('image-runs')).toContainText(`Pod ${pod}`);
  await expect(imageRow.getByTestId('image-runs')).toContainText('first seen');
  await expect(imageRow).toContainText('Trusted Image');

  // Its vulnerabilities, most severe first, the excepted one with its expiry.
  await scan.getByRole('button', { name: 'Vulnerabilities' }).click();
  const vulnerabilities = page.getByRole('dialog', { name: 'Image vulnerabilities' });
  const list = vulnerabilities.getByTestId('image-vulnerabilities');
  await expect(list.locator('tbody tr')).toHaveCount(5);
  await expect(list.locator('tbody tr').first()).toContainText('CVE-2024-6387');
  await expect(list.getByRole('row', { name: /CVE-2024-6387/ })).toContainText('1:9.2p1-2+deb12u3');
  await expect(list.getByRole('row', { name: /CVE-2024-2961/ })).toContainText('Excepted until');
  await expect(list.getByRole('row', { name: /CVE-2023-4911/ })).not.toContainText('Excepted until');
  await expect(list.getByRole('row', { name: /CVE-2023-45853/ })).toContainText('No fix yet');
  await vulnerabilities.getByRole('button', { name: 'Close' }).click();
  await expect(vulnerabilities).toHaveCount(0);

  // Never scanned: the scanned image is not among them.
  await filters.getByLabel('Never scanned').check();
  await filters.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/never_scanned=1/);
  await expect(images).toContainText('No images match the search and filters.');

  // A viewer reads the exceptions but cannot add or remove one.
  const viewerContext = await browser.newContext({ baseURL });
  const viewer = await viewerContext.newPage();
  await signIn(viewer, VIEWER, `${BASE}/exceptions`);
  await expect(viewer.getByTestId('exceptions-table').getByRole('row', { name: /CVE-2024-2961/ })).toContainText('Active');
  await expect(viewer.getByRole('button', { name: 'Add exception' })).toHaveCount(0);
  await expect(viewer.getByRole('button', { name: 'Remove' })).toHaveCount(0);
  await viewerContext.close();
});

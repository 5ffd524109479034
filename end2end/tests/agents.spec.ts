import { BASIC, debianRelease, expect, glibcSourceVersion, goto, signIn, test } from './helpers';

// Node's modules, without @types/node in the devDependencies.
declare function require(name: string): any;
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

// Paths from end2end/, where Playwright runs.
const ROOT = path.resolve('..');
const WORK = path.join(ROOT, '.tmp', 'e2e-agent');

test.describe.configure({ mode: 'serial' });

// Runs as the Acme Retail admin, so the demo's main account keeps its 38 hosts for other specs.
test('add host: enrollment token, a real agent online, matched advisories, a simulated fix', async ({ page }) => {
  test.setTimeout(120_000);
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  const fixed = `${glibcSourceVersion()}+bulwark1`;
  const advisoryFile = path.join(WORK, 'DSA-9100-1.json');
  fs.writeFileSync(
    advisoryFile,
    JSON.stringify({
      id: 'DSA-9100-1',
      modified: '2026-11-20T00:00:00Z',
      summary: 'glibc security update (end-to-end test)',
      affected: [
        {
          package: { ecosystem: `Debian:${debianRelease()}`, name: 'glibc' },
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
        },
      ],
      database_specific: { severity: 'critical' },
    }),
  );
  const brokenFile = path.join(WORK, 'broken.json');
  fs.writeFileSync(brokenFile, '{"id": "DSA-BROKEN", "modified": 12}');

  // Advisories: one good upload and one broken, both listed with what happened.
  await signIn(page, BASIC, '/settings/advisories');
  await page.getByLabel('Advisory file').setInputFiles(advisoryFile);
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForURL(/\/settings\/advisories$/);
  const imports = page.getByTestId('advisory-imports');
  await expect(imports.locator('tbody tr').first()).toContainText('DSA-9100-1.json');
  await expect(page.getByTestId('own-advisories')).toHaveText('1');
  await page.getByLabel('Advisory file').setInputFiles(brokenFile);
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForURL(/\/settings\/advisories$/);
  await expect(imports.locator('tbody tr').first()).toContainText('broken.json');
  await imports.locator('tbody tr').first().getByText('1 skipped').click();
  await expect(imports.locator('tbody tr').first()).toContainText('modified');

  // Add host: a token with a group, shown once inside the command to run.
  await goto(page, '/assets');
  await page.getByRole('link', { name: 'Add host' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Add host' })).toBeVisible();
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.locator('[data-field=name]')).toContainText('Name the token');
  await page.getByLabel('Token name').fill('e2e lab hosts');
  await page.getByLabel('Asset group (optional)').fill('Lab');
  await page.getByLabel('Expires in days (optional)').fill('400');
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.locator('[data-field=expires_in_days]')).toContainText('from 1 to 365');
  await page.getByLabel('Expires in days (optional)').fill('30');
  await page.getByRole('button', { name: 'Create token' }).click();
  const command = page.getByTestId('enroll-command');
  await expect(command).toContainText('bulwark agent --server');
  const text = await command.innerText();
  const token = text.match(/--token (benr_[0-9a-f]+)/)![1];
  expect(text).toContain('--group Lab');
  await expect(page.getByTestId('enrollment-tokens')).toContainText('e2e lab hosts');

  // The real agent, started the way the command says, against this console.
  const agent = spawn(
    path.join(ROOT, 'target', 'debug', 'bulwark'),
    ['agent', '--server', 'http://127.0.0.1:3100', '--token', token, '--state-dir', path.join(WORK, 'state')],
    { cwd: ROOT, stdio: 'ignore', env: { RUST_LOG: 'info', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } },
  );
  try {
    const host = os.hostname();
    await expect(async () => {
      await goto(page, `/assets?q=${encodeURIComponent(host)}`);
      await expect(page.getByTestId('asset-table')).toContainText('Online', { timeout: 1_000 });
    }).toPass({ timeout: 60_000 });
    await page.getByTestId('asset-table').getByRole('link', { name: host }).click();
    await expect(page.getByRole('heading', { level: 1, name: host })).toBeVisible();
    await expect(page.getByTestId('package-count')).toContainText('(dpkg)');

    // The uploaded advisory matched libc6 through its source package, with the fixed version.
    const findings = page.getByTestId('finding-table');
    const row = findings.locator('tbody tr').filter({ hasText: 'DSA-9100-1' });
    await expect(row).toContainText('glibc');
    await expect(row.getByTestId('fixed-version')).toHaveText(fixed);
    await expect(row).toContainText('Critical');

    // Simulate the fix: apt-get -s runs on this host and the page follows the job to its end.
    await row.getByRole('button', { name: 'Simulate' }).click();
    await expect(page.locator('.toast-success').filter({ hasText: 'Fix job queued.' })).toBeVisible();
    const job = page.getByTestId('job-table').locator('tbody tr').first();
    await expect(job.getByTestId('job-status')).toHaveText('Simulated', { timeout: 60_000 });
    await job.getByText(/Output \(exit 0\)/).click();
    await expect(job.locator('pre')).toContainText('apt-get -s install --only-upgrade');
    await expect(job.locator('pre')).toContainText('libc6');
  } finally {
    agent.kill();
  }

  // The token alone cannot take over the enrolled host: an enrollment for its machine id without
  // the agent's credential is held (202) until an admin approves it on Add host.
  const enrollUrl = 'http://127.0.0.1:3100/api/v1/agent/enroll';
  const takeover = {
    facts: {
      hostname: os.hostname(),
      machine_id: fs.readFileSync('/etc/machine-id', 'utf8').trim(),
      os: { id: 'debian', version_id: '12', pretty_name: 'Debian GNU/Linux 12 (bookworm)', id_like: [] },
      kernel: 'e2e',
      ips: ['10.0.0.5'],
    },
    allow_fix: false,
    agent_version: 'e2e',
  };
  const held = await page.request.post(enrollUrl, { headers: { Authorization: `Bearer ${token}` }, data: takeover });
  expect(held.status()).toBe(202);
  const hold = (await held.json()).hold as string;
  await goto(page, '/assets/add-host');
  const heldRow = page.getByTestId('held-enrollments').locator('tbody tr').filter({ hasText: os.hostname() });
  await expect(heldRow).toContainText(takeover.facts.machine_id);
  await heldRow.getByRole('button', { name: 'Approve' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Enrollment approved' })).toBeVisible();
  await expect(page.getByTestId('held-enrollments')).toContainText('No enrollment awaits approval.');
  const approved = await page.request.post(enrollUrl, {
    headers: { Authorization: `Bearer ${token}`, 'x-bulwark-enrollment-hold': hold },
    data: takeover,
  });
  expect(approved.status()).toBe(200);
  expect((await approved.json()).credential).toMatch(/^bagt_/);

  // Revoking the token is confirmed first; enrolled hosts keep their own credentials.
  await goto(page, '/assets/add-host');
  const tokenRow = page.getByTestId('enrollment-tokens').locator('tbody tr').filter({ hasText: 'e2e lab hosts' });
  await expect(tokenRow).toContainText('2'); // the host enrolled, then again once approved
  await tokenRow.getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('dialog', { name: 'Revoke enrollment token' }).getByRole('button', { name: 'Revoke token' }).click();
  await expect(page.locator('.toast-success').filter({ hasText: 'Enrollment token revoked.' })).toBeVisible();
  await expect(tokenRow).toContainText('Revoked');
});

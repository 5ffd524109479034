import { ADMIN, debianRelease, expect, glibcSourceVersion, goto, signIn, test } from './helpers';

// Node's modules, without @types/node in the devDependencies.
declare function require(name: string): any;
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { spawn } = require('child_process');

const ROOT = path.resolve('..');
const WORK = path.join(ROOT, '.tmp', 'e2e-playbook');

/** A DingTalk stand-in on a loopback port: records what the console posts. */
function startRobot(): Promise<{ port: number; received: any[]; close: () => void }> {
  const received: any[] = [];
  const server = http.createServer((req: any, res: any) => {
    let body = '';
    req.on('data', (c: any) => (body += c));
    req.on('end', () => {
      received.push({ url: req.url, body: JSON.parse(body) });
      res.setHeader('Content-Type', 'application/json');
      res.end('{"errcode":0,"errmsg":"ok"}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, received, close: () => server.close() })),
  );
}

test.describe.configure({ mode: 'serial' });

test('playbook: clone the template, create a task over a group, run it in dry run on a real agent', async ({ page }) => {
  test.setTimeout(180_000);
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  const robot = await startRobot();
  const advisoryFile = path.join(WORK, 'DSA-9400-1.json');
  fs.writeFileSync(
    advisoryFile,
    JSON.stringify({
      id: 'DSA-9400-1',
      modified: '2026-11-20T00:00:00Z',
      summary: 'glibc security update (playbook test)',
      affected: [
        {
          package: { ecosystem: `Debian:${debianRelease()}`, name: 'glibc' },
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: `${glibcSourceVersion()}+bulwark1` }] }],
        },
      ],
      database_specific: { severity: 'critical' },
    }),
  );

  // This machine joins the demo's "Web servers" group through a real agent.
  await signIn(page, ADMIN, '/settings/advisories');
  await page.getByLabel('Advisory file').setInputFiles(advisoryFile);
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForURL(/\/settings\/advisories$/);
  await goto(page, '/assets/add-host');
  await page.getByLabel('Token name').fill('playbook e2e');
  await page.getByLabel('Asset group (optional)').fill('Web servers');
  await page.getByRole('button', { name: 'Create token' }).click();
  const command = await page.getByTestId('enroll-command').innerText();
  const token = command.match(/--token (benr_[0-9a-f]+)/)![1];
  const agent = spawn(
    path.join(ROOT, 'target', 'debug', 'bulwark'),
    ['agent', '--server', 'http://127.0.0.1:3100', '--token', token, '--state-dir', path.join(WORK, 'state')],
    { cwd: ROOT, stdio: 'ignore', env: { RUST_LOG: 'info', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } },
  );
  const host = os.hostname();
  try {
    await expect(async () => {
      await goto(page, `/assets?q=${encodeURIComponent(host)}`);
      await expect(page.getByTestId('asset-table')).toContainText('Online', { timeout: 1_000 });
    }).toPass({ timeout: 60_000 });

    // Policy Center › Clone, then My Policy › Create.
    await goto(page, '/playbook/policy-center');
    await page.getByTestId('policy-templates').getByRole('button', { name: 'Clone' }).click();
    await expect(page.locator('.toast-success').filter({ hasText: 'Policy cloned to My Policy.' })).toBeVisible();
    await page.getByRole('main').getByRole('link', { name: 'My Policy' }).click();
    await page.getByTestId('my-policies').locator('tbody tr').first().getByRole('link', { name: 'Create' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Create task' })).toBeVisible();

    // Nothing chosen: every problem is named beside its field, nothing is sent.
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(page.locator('[data-field=name]')).toHaveText('Enter a task name.');
    await expect(page.locator('[data-field=assets]')).toHaveText('Select at least one asset.');
    await expect(page.locator('[data-field=vulnerabilities]')).toContainText('Select at least one vulnerability');

    await page.getByLabel('Task Name').fill('E2E glibc dry run');
    // A group selects all its hosts; one is removed; a search adds another.
    await page.getByRole('group', { name: 'Asset Groups' }).getByLabel(/Web servers/).check();
    const selected = page.getByTestId('selected-assets');
    await expect(selected).toContainText(host);
    await expect(selected).toContainText('cms-01');
    await selected.getByRole('button', { name: 'Remove web-prod-01' }).click();
    await expect(selected).not.toContainText('web-prod-01');
    await page.getByRole('searchbox', { name: 'Search assets' }).fill('winad01');
    await page.getByRole('button', { name: 'Add win-ad-01' }).click();
    await expect(selected).toContainText('win-ad-01');

    // Vulnerabilities on two tabs: the glibc advisory (Linux software) and one Web-CMS finding.
    const vulns = page.getByTestId('task-vulnerabilities');
    await expect(vulns).toContainText('DSA-9400-1');
    await vulns.locator('tr').filter({ hasText: 'DSA-9400-1' }).getByRole('checkbox').check();
    await page.getByRole('button', { name: /^Web-CMS/ }).click();
    await page.getByLabel('Severity').selectOption('critical');
    await vulns.locator('tbody tr').first().getByRole('checkbox').check();
    await expect(page.getByText('2 selected')).toBeVisible();

    // A chatbot: only the operator's DingTalk hosts (oapi.dingtalk.com, and here the test's
    // loopback receiver, allowed in playwright.config.ts), and plain http only where allowed.
    await page.getByRole('button', { name: 'Add DingTalk Chatbot' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add DingTalk Chatbot' });
    await dialog.getByLabel('Chatbot name').fill('SecOps robot');
    await dialog.getByLabel('Webhook URL').fill('https://robots.evil.example/robot/send?access_token=abc');
    await dialog.getByRole('button', { name: 'Add chatbot' }).click();
    await expect(dialog.locator('[data-field=bot-webhook]')).toHaveText(
      "DingTalk robots post to oapi.dingtalk.com; the console's operator can allow other hosts in BULWARK_DINGTALK_HOSTS.",
    );
    await dialog.getByLabel('Webhook URL').fill('http://oapi.dingtalk.com/robot/send?access_token=abc');
    await dialog.getByRole('button', { name: 'Add chatbot' }).click();
    await expect(dialog.locator('[data-field=bot-webhook]')).toHaveText('Use an https:// URL.');
    await dialog.getByLabel('Webhook URL').fill(`http://127.0.0.1:${robot.port}/robot/send?access_token=e2e`);
    await dialog.getByLabel('Signing secret (optional)').fill('SECe2e');
    await dialog.getByLabel('Keywords (optional)').fill('Bulwark');
    await dialog.getByRole('button', { name: 'Add chatbot' }).click();
    await expect(page.locator('.toast-success').filter({ hasText: 'Chatbot "SecOps robot" added.' })).toBeVisible();
    await expect(page.getByRole('group', { name: 'DingTalk Chatbots' }).getByLabel(/SecOps robot/)).toBeChecked();

    await page.getByLabel('Email').fill('secops@bulwark.local, not-an-address');
    await page.getByLabel('Dry run: only simulate (the package manager reports what it would change)').check();
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(page.locator('[data-field=emails]')).toContainText('not-an-address');
    await page.getByLabel('Email').fill('secops@bulwark.local');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(page.locator('.toast-success').filter({ hasText: 'Created' })).toBeVisible();
    await page.waitForURL(/\/playbook\/tasks$/);

    // Task Management follows the task to its end.
    const row = page.getByTestId('task-table').locator('tr[data-task="E2E glibc dry run"]');
    await expect(row.getByTestId('task-status')).toContainText('Completed', { timeout: 90_000 });
    await expect(row).toContainText('Execute, dry run');
    await row.getByRole('link', { name: 'Details' }).click();

    // Details: the agent's host simulated with apt-get's output, the others failed without an agent.
    const hosts = page.getByTestId('host-results');
    const mine = hosts.locator(`tr[data-host="${host}"]`);
    await expect(mine.getByTestId('host-status')).toHaveText('Simulated');
    await mine.getByText('Package manager output').click();
    await expect(mine.locator('pre')).toContainText('apt-get -s install --only-upgrade');
    // The demo host with the chosen Web-CMS vulnerability has no agent; hosts with neither are skipped.
    const noAgent = hosts.locator('tbody tr').filter({ hasText: 'no agent' });
    await expect(noAgent).toHaveCount(1);
    await expect(noAgent.getByTestId('host-status')).toHaveText('Failed');
    const skipped = hosts.locator('tbody tr').filter({ hasText: 'nothing to fix' }).first();
    await expect(skipped.getByTestId('host-status')).toHaveText('Skipped');
    await expect(page.getByTestId('task-status')).toHaveText('Completed — Total: 13; Success: 1; Failed: 1');
    await expect(page.getByTestId('notify-log')).toContainText('DingTalk "SecOps robot": sent');
    await expect(page.getByTestId('notify-log')).toContainText('Email to secops@bulwark.local: sent');
    expect(robot.received.length).toBe(1);
    expect(robot.received[0].url).toMatch(/timestamp=\d+&sign=/);
    expect(robot.received[0].body.markdown.text).toContain('E2E glibc dry run');

    // Retry failed: a second execution over the failed hosts only.
    await goto(page, '/playbook/tasks');
    await row.getByRole('button', { name: 'Retry failed' }).click();
    await expect(page.locator('.toast-success').filter({ hasText: 'Retrying the failed hosts.' })).toBeVisible();
    await expect(row.locator('td').nth(1)).toHaveText('2', { timeout: 30_000 }); // Executed Num
    await expect(row.getByTestId('task-status')).toContainText('Completed', { timeout: 90_000 });
  } finally {
    agent.kill();
    robot.close();
  }
});

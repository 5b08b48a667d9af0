import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { api, launchBrowser, screenshots, type TestBrowser } from './browser';

const baseUrl = inject('baseUrl');
const operatorKey = inject('operatorKey');

describe('operator', () => {
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    // Another tenant with an agent: the new tenant must never see it.
    await api(baseUrl, operatorKey, 'POST', '/api/tenants', { name: 'Other Co', slug: 'other-e2e', owner: 'ops@other.example' });
    await api(baseUrl, operatorKey, 'POST', '/api/agents', { name: 'Other secret agent', systemPrompt: 'x', provider: 'ollama', model: 'llama3.2' }, 'other-e2e');
    await api(baseUrl, operatorKey, 'POST', '/api/tenants', { name: 'Doomed', slug: 'doomed-e2e', owner: 'ops@doomed.example' });
    browser = await launchBrowser();
    page = await browser.newPage(baseUrl);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('creates a tenant, issues a key, and that tenant sees none of another tenant\'s agents', async () => {
    await page.goto('/');
    await page.getByLabel('API key', { exact: true }).waitFor();
    await screenshots(page, 'sign-in');

    // A wrong key: the API's message is shown, the page stays.
    await page.getByLabel('API key', { exact: true }).fill('agk_not_a_real_key_at_all_0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText(/\S/).waitFor();

    await page.getByLabel('API key', { exact: true }).fill(operatorKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    expect(await page.evaluate(() => Object.keys(localStorage).length)).toBe(0);
    expect(await page.evaluate(() => sessionStorage.getItem('agentik.session'))).toContain(operatorKey);
    // A tenant page before a tenant is chosen says how to choose one.
    await page.getByRole('link', { name: 'Agents' }).click();
    await page.getByRole('heading', { name: 'Choose a tenant', level: 1 }).waitFor();
    await screenshots(page, 'choose-tenant');
    await page.getByRole('link', { name: 'Tenants' }).first().click();
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();

    // Create a tenant.
    await page.getByLabel('Name', { exact: true }).fill('Acme Robotics');
    await page.getByLabel('Slug', { exact: true }).fill('acme-e2e');
    await page.getByLabel('Owner', { exact: true }).fill('ops@acme.example');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByText('Tenant Acme Robotics (acme-e2e) created.').waitFor();
    await page.getByRole('cell', { name: 'acme-e2e', exact: true }).waitFor();

    // Suspend asks first, in a real dialog, by keyboard only: focus moves into it, Escape closes
    // it and focus goes back to the button; Enter on the confirm button suspends.
    const suspend = page.getByRole('button', { name: 'Suspend acme-e2e' });
    await suspend.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Suspend Acme Robotics?' });
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.closest('dialog') !== null)).toBe(true);
    await screenshots(page, 'dialog-suspend');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Suspend acme-e2e');
    expect((await api<{ status: string }>(baseUrl, operatorKey, 'GET', '/api/tenants/acme-e2e')).status).toBe('active');
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    // Tab stays inside the dialog (the page behind is inert).
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.closest('dialog') !== null)).toBe(true);
    }
    await dialog.getByRole('button', { name: 'Suspend tenant' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Tenant acme-e2e suspended.').waitFor();
    expect((await api<{ status: string }>(baseUrl, operatorKey, 'GET', '/api/tenants/acme-e2e')).status).toBe('suspended');
    await page.getByRole('button', { name: 'Resume acme-e2e' }).click();
    await page.getByRole('button', { name: 'Suspend acme-e2e' }).waitFor();

    // Raise its requests per minute above the plan's and lower its keys: shown as overrides.
    const rpmCell = page.getByTestId('limit-acme-e2e-requestsPerMinute');
    expect((await rpmCell.textContent())!).toContain('60 plan');
    await page.getByRole('button', { name: 'Edit limits of acme-e2e' }).click();
    await page.getByLabel('Requests per minute', { exact: true }).fill('120000');
    await page.getByLabel('API keys', { exact: true }).fill('1000000001');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await page.getByRole('alert').getByText(/API keys: a whole number/).waitFor();
    await page.getByLabel('API keys', { exact: true }).fill('5');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await page.getByText('Limits of acme-e2e saved.').waitFor();
    // The list reloads after the notice: wait for the new value.
    await rpmCell.filter({ hasText: '120,000 override' }).waitFor();
    expect((await page.getByTestId('limit-acme-e2e-maxKeys').textContent())!).toContain('5 override');
    await screenshots(page, 'tenant-limits');
    const saved = await api<{ limits: Record<string, { value: number; source: string }> }>(baseUrl, operatorKey, 'GET', '/api/tenants/acme-e2e');
    expect(saved.limits.requestsPerMinute).toEqual({ value: 120_000, source: 'override' });
    // Emptying a field goes back to the plan's value.
    await page.getByRole('button', { name: 'Edit limits of acme-e2e' }).click();
    await page.getByLabel('Requests per minute', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await rpmCell.filter({ hasText: '60 plan' }).waitFor();
    const cleared = await api<{ limits: Record<string, { value: number; source: string }> }>(baseUrl, operatorKey, 'GET', '/api/tenants/acme-e2e');
    expect(cleared.limits).toMatchObject({ requestsPerMinute: { value: 60, source: 'plan' }, maxKeys: { value: 5, source: 'override' } });

    // Delete another one, with the slug typed to confirm.
    await page.getByRole('button', { name: 'Delete doomed-e2e' }).click();
    const confirm = page.getByRole('button', { name: 'Delete tenant' });
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel('Type doomed-e2e to confirm').fill('doomed-e2');
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel('Type doomed-e2e to confirm').fill('doomed-e2e');
    await screenshots(page, 'dialog-delete-tenant');
    await confirm.click();
    await page.getByText('Tenant doomed-e2e deleted.').waitFor();

    // Issue an owner key for the new tenant: shown once.
    await page.getByRole('button', { name: 'Issue key for acme-e2e' }).click();
    await page.getByLabel('Role', { exact: true }).selectOption('owner');
    await page.getByRole('button', { name: 'Issue key', exact: true }).click();
    const key = (await page.getByTestId('new-key').textContent())!.trim();
    expect(key).toMatch(/^\S{32,}$/);
    await screenshots(page, 'tenants');
    await page.getByRole('button', { name: 'I have stored it' }).click();
    expect(await page.getByTestId('new-key').count()).toBe(0);
    // The table counts the tenant's live keys and its spend of the month (nothing yet).
    await page.getByTestId('keys-acme-e2e').filter({ hasText: /^1$/ }).waitFor();
    expect(await page.getByTestId('spend-acme-e2e').textContent()).toBe('$0.00');

    // The operator acting in the other tenant does see its agent (so the check below means something).
    await page.getByLabel('Tenant', { exact: true }).selectOption('other-e2e');
    await page.getByRole('link', { name: 'Agents' }).click();
    await page.getByText('Other secret agent').waitFor();
    await screenshots(page, 'agents-operator');

    // Sign out, sign in as the new tenant: no request of the sign-in fails (no operator probe
    // answered 403, which the browser logs as an error), and the header says who is signed in.
    await page.getByRole('button', { name: 'Sign out' }).click();
    const failures: string[] = [];
    const consoleErrors: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failures.push(`${r.status()} ${r.url()}`);
    });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.getByLabel('API key', { exact: true }).fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Agents', level: 1 }).waitFor();
    expect((await page.getByTestId('identity').textContent())!.replace(/\s+/g, ' ')).toBe('Acme Robotics · owner');
    await page.getByText('No agents yet.').waitFor();
    expect(await page.getByText('Other secret agent').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Tenants' }).count()).toBe(0);
    expect(await page.getByLabel('Tenant', { exact: true }).count()).toBe(0);
    expect(failures).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});

/**
 * Where the keyboard focus goes after a failed sign-in and after issuing a key, in a real browser
 * (document.activeElement), driven by the keyboard only.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { api, launchBrowser, type TestBrowser } from './browser';

const baseUrl = inject('baseUrl');
const operatorKey = inject('operatorKey');

/** What has the focus: its id, tag, text, and the accessible name of the region around it. */
function focused(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return {
      id: el?.id ?? '',
      tag: el?.tagName.toLowerCase() ?? '',
      text: el?.textContent?.trim() ?? '',
      region: el?.closest('[role="region"]')?.getAttribute('aria-label') ?? null,
    };
  });
}

describe('focus', () => {
  let browser: TestBrowser;
  let page: Page;
  let key: string;

  beforeAll(async () => {
    await api(baseUrl, operatorKey, 'POST', '/api/tenants', { name: 'Focus Co', slug: 'focus-e2e', owner: 'ops@focus.example' });
    ({ key } = await api<{ key: string }>(baseUrl, operatorKey, 'POST', '/api/tenants/focus-e2e/keys', { role: 'owner', name: 'focus owner' }));
    browser = await launchBrowser();
    page = await browser.newPage(baseUrl);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('puts the focus back on the key field after a failed sign-in, marked invalid and described by the error', async () => {
    await page.goto('/');
    await page.getByLabel('API key', { exact: true }).waitFor();
    await page.keyboard.press('Tab');
    expect((await focused(page)).id).toBe('api-key');
    await page.keyboard.type('agk_not_a_key_anyone_issued_0123456789abcdef');
    // On to the Sign in button (past "Remember on this device") and press it.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toMatchObject({ tag: 'button', text: 'Sign in' });
    await page.keyboard.press('Enter');
    await page.getByText('This key is not valid: it is unknown, revoked or expired.').waitFor();
    // The Sign in button that had the focus was disabled while busy; the focus is on the key again.
    await expect.poll(async () => (await focused(page)).id).toBe('api-key');
    const field = page.getByLabel('API key', { exact: true });
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect((await field.getAttribute('aria-describedby'))!.split(' ')).toContain('signin-error');
    expect(await page.locator('#signin-error').textContent()).toContain('This key is not valid');

    // From there the keyboard alone fixes it: select the wrong key, type the right one, Enter.
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(key);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Agents', level: 1 }).waitFor();
  });

  it('moves the focus to the new key\'s Copy button once a key is issued, and copies it by keyboard', async () => {
    await page.goto('/#/keys');
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await page.getByLabel('Key name', { exact: true }).focus();
    await page.keyboard.type('focus key');
    await page.keyboard.press('Enter');
    const secret = page.getByTestId('new-key');
    await secret.waitFor();
    // The form that had the focus is gone; the focus is on what comes next, copying the key.
    await expect.poll(() => focused(page)).toEqual({ id: '', tag: 'button', text: 'Copy', region: 'New member key "focus key"' });
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe((await secret.textContent())!.trim());
    await page.keyboard.press('Tab');
    expect(await focused(page)).toMatchObject({ tag: 'button', text: 'I have stored it' });
    await page.keyboard.press('Enter');
    await page.getByRole('cell', { name: 'focus key', exact: true }).waitFor();
    expect(await secret.count()).toBe(0);
    // The panel is gone; the focus is on what comes next, the name of another key, not the page.
    await expect.poll(async () => (await focused(page)).id).toBe('key-name');
  });

  it("moves the focus to the Copy button of a key the operator issues for a tenant", async () => {
    const operator = await browser.newPage(baseUrl);
    await operator.goto('/');
    await operator.getByLabel('API key', { exact: true }).fill(operatorKey);
    await operator.keyboard.press('Enter');
    await operator.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await operator.getByRole('button', { name: 'Issue key for focus-e2e' }).click();
    await operator.getByLabel('Key name', { exact: true }).fill('operator issued');
    await operator.keyboard.press('Enter');
    await operator.getByTestId('new-key').waitFor();
    await expect.poll(() => focused(operator)).toEqual({ id: '', tag: 'button', text: 'Copy', region: 'New owner key for focus-e2e' });
    // Dismissed by keyboard, the panel hands the focus back to the button that opened it.
    await operator.keyboard.press('Tab');
    expect(await focused(operator)).toMatchObject({ tag: 'button', text: 'I have stored it' });
    await operator.keyboard.press('Enter');
    await operator.getByTestId('new-key').waitFor({ state: 'detached' });
    const issueButton = () => operator.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? null);
    await expect.poll(issueButton).toBe('Issue key for focus-e2e');
    // So does the limits panel, cancelled.
    await operator.getByRole('button', { name: 'Edit limits of focus-e2e' }).click();
    await operator.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(issueButton).toBe('Edit limits of focus-e2e');
    await operator.context().close();
  });
});

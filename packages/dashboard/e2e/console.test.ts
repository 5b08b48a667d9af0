/** The console as Langfuse and LiteLLM users expect it: a request log with filters, date ranges, a readable audit log. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { api, launchBrowser, screenshots, signIn, type TestBrowser } from './browser';

const baseUrl = inject('baseUrl');
const operatorKey = inject('operatorKey');

const yesterday = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

describe('console', () => {
  let browser: TestBrowser;
  let page: Page;
  let key: string;

  beforeAll(async () => {
    await api(baseUrl, operatorKey, 'POST', '/api/tenants', { name: 'Console Co', slug: 'console-e2e', owner: 'ops@console.example' });
    ({ key } = await api<{ key: string }>(baseUrl, operatorKey, 'POST', '/api/tenants/console-e2e/keys', { role: 'owner', name: 'console owner' }));
    const claude = await api<{ id: string }>(baseUrl, key, 'POST', '/api/agents', { name: 'Claude helper', systemPrompt: 'x', provider: 'anthropic', model: 'claude-sonnet-4-5' });
    const local = await api<{ id: string }>(baseUrl, key, 'POST', '/api/agents', { name: 'Local helper', systemPrompt: 'x', provider: 'ollama', model: 'llama3.2' });
    for (const agent of [claude.id, claude.id, local.id]) await api(baseUrl, key, 'POST', `/api/agents/${agent}/messages`, { content: 'Hi' });
    await api(baseUrl, key, 'POST', '/api/keys', { role: 'member', name: 'audit key' });
    browser = await launchBrowser();
    page = await browser.newPage(baseUrl);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('lists every request from the cost events, filtered by agent, model, outcome and date range', async () => {
    await signIn(page, key, 'Requests', '/#/requests');
    const summary = page.getByTestId('requests-summary');
    await summary.filter({ hasText: '3 of 3 requests' }).waitFor();
    const rows = page.locator('table tbody tr');
    expect(await rows.count()).toBe(3);
    expect(await page.getByRole('cell', { name: 'anthropic/claude-sonnet-4-5' }).count()).toBe(2);
    expect(await page.getByRole('cell', { name: '$0.000192' }).count()).toBe(2);
    await screenshots(page, 'requests');

    await page.getByLabel('Agent', { exact: true }).selectOption({ label: 'Local helper' });
    await summary.filter({ hasText: '1 of 3 requests' }).waitFor();
    expect(await rows.first().textContent()).toContain('ollama/llama3.2');
    await page.getByLabel('Agent', { exact: true }).selectOption({ label: 'All agents' });
    await page.getByLabel('Model', { exact: true }).selectOption('anthropic/claude-sonnet-4-5');
    await summary.filter({ hasText: '2 of 3 requests · $0.000384' }).waitFor();
    await page.getByLabel('Outcome', { exact: true }).selectOption('aborted');
    await page.getByText('No requests match.').waitFor();
    await page.getByLabel('Outcome', { exact: true }).selectOption('ok');
    await summary.filter({ hasText: '2 of 3 requests' }).waitFor();

    // A range that ends yesterday holds none of today's requests.
    await page.getByLabel('From', { exact: true }).fill(yesterday());
    await page.getByLabel('To', { exact: true }).fill(yesterday());
    await summary.filter({ hasText: '0 of 0 requests' }).waitFor();
  });

  it('shows Costs for a date range', async () => {
    await page.getByRole('link', { name: 'Costs' }).click();
    await page.getByTestId('total-spend').filter({ hasText: '$0.000384' }).waitFor();
    await page.getByLabel('From', { exact: true }).fill(yesterday());
    await page.getByLabel('To', { exact: true }).fill(yesterday());
    await page.getByText('Nothing spent in this range.').waitFor();
    expect(await page.getByTestId('total-spend').textContent()).toBe('$0.00');
  });

  it('shows the audit log newest first, with names beside ids and readable details', async () => {
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    const first = page.locator('table tbody tr').first();
    await first.waitFor();
    const text = (await first.textContent())!;
    expect(text).toContain('key.created');
    expect(text).toContain('audit key (member key)');
    expect(text).toContain('role: member');
    expect(text).toContain('console owner (owner key)');
    await screenshots(page, 'audit-names');
  });

  it('pages the audit log newest first, one page from the API per page shown, as far back as it goes', async () => {
    // 55 renames after the events above: three pages of 25, newest first.
    const { data } = await api<{ data: { id: string }[] }>(baseUrl, key, 'GET', '/api/conversations');
    for (let i = 1; i <= 55; i++) await api(baseUrl, key, 'PATCH', `/api/conversations/${data[0]!.id}`, { title: `title ${i}` });
    const all = await api<{ data: { action: string }[] }>(baseUrl, key, 'GET', '/api/audit?limit=200');
    const total = all.data.length;
    expect(total).toBeGreaterThan(55);
    expect(total).toBeLessThanOrEqual(75);

    const asked: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/audit') asked.push(new URL(r.url()).search);
    });
    await page.getByRole('link', { name: 'Requests' }).click();
    await page.getByRole('link', { name: 'Audit' }).click();
    const rows = page.locator('table tbody tr');
    const details = () => rows.locator('.details').allTextContents();
    await expect.poll(async () => (await details())[0]).toBe('title: title 55');
    expect(await rows.count()).toBe(25);
    expect((await details()).at(-1)).toBe('title: title 31');

    await page.getByRole('button', { name: 'Older' }).click();
    await page.getByText('Page 2', { exact: true }).waitFor();
    await expect.poll(async () => (await details())[0]).toBe('title: title 30');
    await page.getByRole('button', { name: 'Older' }).click();
    await page.getByText('Page 3', { exact: true }).waitFor();
    await expect.poll(async () => (await details())[0]).toBe('title: title 5');
    // The last page ends with the oldest event, and there is nothing older.
    await expect.poll(() => rows.count()).toBe(total - 50);
    expect(await rows.last().textContent()).toContain(all.data[0]!.action);
    expect(await page.getByRole('button', { name: 'Older' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Newer' }).click();
    await page.getByText('Page 2', { exact: true }).waitFor();
    await expect.poll(async () => (await details())[0]).toBe('title: title 30');

    // Each page shown was one request for 25 events newest first, after the previous page's last.
    expect(asked).toHaveLength(4);
    for (const q of asked) {
      const params = new URLSearchParams(q);
      expect(params.get('order')).toBe('desc');
      expect(params.get('limit')).toBe('25');
    }
    expect(asked.map((q) => new URLSearchParams(q).get('cursor'))).toEqual([null, expect.any(String), expect.any(String), expect.any(String)]);
    expect(new URLSearchParams(asked[3]).get('cursor')).toBe(new URLSearchParams(asked[1]).get('cursor'));
  });
});

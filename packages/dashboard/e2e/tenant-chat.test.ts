import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { api, launchBrowser, screenshots, type TestBrowser } from './browser';
import { REPLY_TEXT } from './env';

const baseUrl = inject('baseUrl');
const operatorKey = inject('operatorKey');

describe('tenant', () => {
  let browser: TestBrowser;
  let page: Page;
  let key: string;

  beforeAll(async () => {
    await api(baseUrl, operatorKey, 'POST', '/api/tenants', { name: 'Chat Co', slug: 'chat-e2e', owner: 'ops@chat.example' });
    ({ key } = await api<{ key: string }>(baseUrl, operatorKey, 'POST', '/api/tenants/chat-e2e/keys', { role: 'owner', name: 'e2e owner' }));
    browser = await launchBrowser();
    page = await browser.newPage(baseUrl);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('creates an agent, chats with a streamed reply, and sees the cost on the Costs page', async () => {
    // Signed in with the keyboard only: Tab to the field, type, Enter.
    await page.goto('/');
    await page.getByLabel('API key', { exact: true }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('api-key');
    await page.keyboard.type(key);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Agents', level: 1 }).waitFor();
    await page.getByText('No agents yet.').waitFor();
    await screenshots(page, 'agents-empty');

    // New agent, through the form.
    await page.getByRole('link', { name: 'New agent' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Support bot');
    await page.getByLabel('System prompt', { exact: true }).fill('You answer support questions briefly.');
    await page.getByLabel('Provider', { exact: true }).selectOption('anthropic');
    await page.getByLabel('Model', { exact: true }).fill('claude-sonnet-4-5');
    await page.getByLabel('Temperature', { exact: true }).fill('0.3');
    await page.getByLabel('Max tokens', { exact: true }).fill('256');
    const tools = page.locator('fieldset.tools input[type="checkbox"]');
    await tools.first().waitFor();
    await tools.first().check();
    await screenshots(page, 'agent-form');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.getByText('Agent Support bot created.').waitFor();
    await page.getByRole('cell', { name: /anthropic · claude-sonnet-4-5/ }).waitFor();
    await screenshots(page, 'agents');

    // Edit it.
    await page.getByRole('link', { name: 'Edit Support bot' }).click();
    await page.getByLabel('Temperature', { exact: true }).fill('0.5');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Agent Support bot saved.').waitFor();

    // Chat: the reply streams in.
    await page.getByRole('link', { name: 'Chat with Support bot' }).click();
    await page.getByRole('heading', { name: 'Chat', level: 1 }).waitFor();
    await page.getByLabel('Message', { exact: true }).fill('Hello, can you help me with my order?');
    // Record every text the reply shows while it streams.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { __seen: string[] }).__seen = seen;
      new MutationObserver(() => {
        const el = document.querySelector('[data-streaming="true"]');
        if (el) seen.push(el.textContent ?? '');
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByRole('button', { name: 'Send' }).click();
    const meta = page.getByTestId('reply-meta');
    await meta.waitFor();
    const finalText = (await page.getByTestId('assistant-message').locator('.message-text').textContent())!;
    expect(finalText).toBe(REPLY_TEXT);
    const seen = await page.evaluate(() => (window as unknown as { __seen: string[] }).__seen);
    const partial = seen.filter((t) => t.length > 0 && t.length < REPLY_TEXT.length);
    expect(partial.length).toBeGreaterThan(1);
    for (const t of partial) expect(REPLY_TEXT.startsWith(t)).toBe(true);
    const metaText = (await meta.textContent())!;
    expect(metaText).toContain('24 in');
    expect(metaText).toContain('8 out tokens');
    const cost = /\$[0-9.]+/.exec(metaText)?.[0];
    // 24 input and 8 output tokens at claude-sonnet-4-5's $3 / $15 per million.
    expect(cost).toBe('$0.000192');
    await page.waitForURL(/#\/chat\/ag_[^/]+\/cv_/);

    // A second turn in the same conversation, then search for the first one.
    await page.getByLabel('Message', { exact: true }).fill('And the delivery date?');
    await page.keyboard.press('Enter');
    await page.getByTestId('reply-meta').nth(1).waitFor();
    await page.getByLabel('Search conversations', { exact: true }).fill('order');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const hit = page.getByRole('list', { name: 'Search results' }).getByRole('link').first();
    await hit.waitFor();
    expect(await hit.textContent()).toContain('help me with my order');
    await page.getByRole('button', { name: 'New conversation' }).click();
    await page.getByText('Send a message to start a conversation.').waitFor();
    await hit.click();
    await page.getByTestId('user-message').nth(1).waitFor();
    await screenshots(page, 'chat');

    // Costs: the spend is there, by day, by model and by agent.
    await page.getByRole('link', { name: 'Costs' }).click();
    await page.getByRole('heading', { name: 'Spend per day' }).waitFor();
    expect(await page.getByTestId('total-spend').textContent()).toBe('$0.000384');
    await page.locator('svg.chart-svg').waitFor();
    const heights = await page.locator('svg.chart-svg rect.chart-bar').evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('height'))));
    expect(heights.filter((h) => h > 0)).toHaveLength(1);
    await page.getByRole('cell', { name: 'anthropic/claude-sonnet-4-5', exact: true }).waitFor();
    await page.getByRole('cell', { name: 'Support bot', exact: true }).waitFor();

    // Budget editor (owner): set a limit with thresholds.
    await page.getByLabel('Monthly limit (USD)', { exact: true }).fill('5');
    await page.getByLabel('Alert thresholds (%)', { exact: true }).fill('50, 90');
    await page.getByRole('button', { name: 'Save budget' }).click();
    await page.getByText('Budget saved.').waitFor();
    await page.getByText(/of \$5\.00 spent/).waitFor();
    await page.getByRole('meter', { name: 'Budget used' }).waitFor();
    await screenshots(page, 'costs');
  });

  it('manages keys and pages through the audit log', async () => {
    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await page.getByLabel('Key name', { exact: true }).fill('ci bot');
    await page.getByLabel('Role', { exact: true }).selectOption('member');
    await page.getByRole('button', { name: 'Create key' }).click();
    expect((await page.getByTestId('new-key').textContent())!.length).toBeGreaterThan(32);
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await page.getByRole('cell', { name: 'ci bot', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Revoke ci bot' }).click();
    await page.getByRole('button', { name: 'Revoke key' }).click();
    await page.getByText('Key ci bot revoked.').waitFor();
    await screenshots(page, 'keys');

    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    await page.getByRole('cell', { name: 'key.created', exact: true }).first().waitFor();
    await screenshots(page, 'audit');

    // Deleting the agent leaves the list empty again.
    await page.getByRole('link', { name: 'Agents' }).click();
    await page.getByRole('button', { name: 'Delete Support bot' }).click();
    await page.getByRole('button', { name: 'Delete agent' }).click();
    await page.getByText('No agents yet.').waitFor();
  });

  it('draws the nav focus ring inside the scrolling nav, and no ring on the content area it moves focus to', async () => {
    await page.getByRole('link', { name: 'Costs' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Costs', level: 1 }).waitFor();
    // Focus went to the page's content for screen readers; it is not a keyboard stop to outline.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    expect(await page.locator('#main').evaluate((el) => getComputedStyle(el).outlineStyle)).toBe('none');
    await page.keyboard.press('Shift+Tab');
    const ring = await page.evaluate(() => {
      const a = document.activeElement as HTMLElement;
      const style = getComputedStyle(a);
      return { inNav: a.closest('nav') !== null, style: style.outlineStyle, offset: style.outlineOffset };
    });
    expect(ring).toEqual({ inNav: true, style: 'solid', offset: '-3px' });
  });
});

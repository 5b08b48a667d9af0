/** Chat as LibreChat and Open WebUI users expect it: markdown, copy, stop, regenerate. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { api, launchBrowser, screenshots, signIn, type TestBrowser } from './browser';
import { LONG_REPLY, REPLY_TEXT, SECOND_REPLY } from './env';

const baseUrl = inject('baseUrl');
const operatorKey = inject('operatorKey');

describe('chat', () => {
  let browser: TestBrowser;
  let page: Page;
  let key: string;
  let agentId: string;

  beforeAll(async () => {
    await api(baseUrl, operatorKey, 'POST', '/api/tenants', { name: 'Markdown Co', slug: 'md-e2e', owner: 'ops@md.example' });
    ({ key } = await api<{ key: string }>(baseUrl, operatorKey, 'POST', '/api/tenants/md-e2e/keys', { role: 'owner', name: 'md owner' }));
    ({ id: agentId } = await api<{ id: string }>(baseUrl, key, 'POST', '/api/agents', { name: 'Writer', systemPrompt: 'x', provider: 'anthropic', model: 'claude-sonnet-4-5' }));
    browser = await launchBrowser();
    page = await browser.newPage(baseUrl);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('renders a markdown reply (sanitised: a script tag shows as text and never runs), with code copy and message copy', async () => {
    // A deep link survives sign-in.
    await signIn(page, key, 'Chat', `/#/chat/${agentId}`);
    await page.getByLabel('Message', { exact: true }).fill('MARKDOWN please');
    await page.getByRole('button', { name: 'Send' }).click();
    const reply = page.getByTestId('assistant-message').last();
    await reply.getByTestId('reply-meta').waitFor();
    const md = reply.locator('.md');
    expect(await md.locator('strong').first().textContent()).toBe('Result');
    expect(await md.locator('p strong').nth(1).textContent()).toBe('bold');
    expect(await md.locator('em').textContent()).toBe('italic');
    expect(await md.locator('li').allTextContents()).toEqual(['first item', 'second item']);
    expect(await md.locator('a').first().getAttribute('href')).toBe('https://example.com/docs');
    expect(await md.locator('a').first().getAttribute('rel')).toContain('noopener');
    // Raw HTML is text, never elements; the javascript: link is no link.
    expect(await md.locator('script, img').count()).toBe(0);
    expect(await md.textContent()).toContain('<script>window.pwned = true</script>');
    expect(await md.locator('a[href^="javascript"]').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: boolean }).pwned)).toBeUndefined();
    // The code block is highlighted and has its own copy button.
    const code = md.locator('.md-code');
    expect(await code.locator('.hl-k').first().textContent()).toBe('const');
    expect(await code.locator('.hl-c').textContent()).toBe('// the answer');
    await code.getByRole('button', { name: 'Copy ts code' }).click();
    await code.getByRole('button', { name: 'Copied ts code' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('const answer: number = 42; // the answer');
    await reply.getByRole('button', { name: 'Copy the reply' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toContain('## Result');
    await screenshots(page, 'chat-markdown');
  });

  it('stops a reply while it streams, keeps what came, and regenerates the last reply', async () => {
    await page.getByRole('button', { name: 'New conversation' }).click();
    await page.getByLabel('Message', { exact: true }).fill('Tell me a LONG story');
    await page.getByRole('button', { name: 'Send' }).click();
    const streaming = page.locator('[data-streaming="true"]');
    await streaming.getByText(/word5/).waitFor();
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByTestId('reply-stopped').waitFor();
    const kept = (await page.getByTestId('assistant-message').last().locator('.message-text').textContent())!;
    expect(kept.length).toBeGreaterThan(0);
    expect(LONG_REPLY.startsWith(kept.trim())).toBe(true);
    expect(kept.trim().length).toBeLessThan(LONG_REPLY.length);
    // The server kept the stopped turn: the page moved to its conversation.
    await page.waitForURL(/#\/chat\/ag_[^/]+\/cv_/);
    await page.getByRole('button', { name: 'Send' }).waitFor();

    // Regenerate answers the last message again: the new reply streams in and takes the old one's
    // place, on the page and on the server; the message is not sent (or stored) a second time.
    await page.getByLabel('Message', { exact: true }).fill('Something short, AGAIN');
    await page.getByRole('button', { name: 'Send' }).click();
    const replies = page.getByTestId('assistant-message');
    const users = page.getByTestId('user-message');
    await users.filter({ hasText: 'Something short, AGAIN' }).waitFor();
    await replies.last().getByText(REPLY_TEXT).waitFor();
    await replies.last().getByTestId('reply-meta').waitFor();
    const before = { replies: await replies.count(), users: await users.count() };
    expect(await replies.last().locator('.message-text').textContent()).toBe(REPLY_TEXT);
    await page.getByRole('button', { name: 'Regenerate' }).click();
    // While it streams, the old reply is gone from view and the new one grows in its place.
    await page.locator('[data-streaming="true"]').getByText(/^A second/).waitFor();
    expect(await page.getByText(REPLY_TEXT, { exact: true }).count()).toBe(0);
    await replies.last().getByTestId('reply-meta').waitFor();
    expect(await replies.last().locator('.message-text').textContent()).toBe(SECOND_REPLY);
    expect({ replies: await replies.count(), users: await users.count() }).toEqual(before);
    expect(await users.filter({ hasText: 'Something short, AGAIN' }).count()).toBe(1);
    expect(await page.getByText(REPLY_TEXT, { exact: true }).count()).toBe(0);
    const conversationId = decodeURIComponent(/#\/chat\/[^/]+\/([^/?]+)/.exec(page.url())![1]!);
    const stored = await api<{ messages: { role: string; content: string }[] }>(baseUrl, key, 'GET', `/api/conversations/${conversationId}`);
    expect(stored.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(stored.messages.filter((m) => m.content === 'Something short, AGAIN')).toHaveLength(1);
    expect(stored.messages.slice(-2)).toMatchObject([
      { role: 'user', content: 'Something short, AGAIN' },
      { role: 'assistant', content: SECOND_REPLY },
    ]);
    expect(stored.messages.some((m) => m.content === REPLY_TEXT)).toBe(false);
    // After a reload the page shows what the server has: the same single turn and the new reply.
    await page.reload();
    await replies.last().getByText(SECOND_REPLY).waitFor();
    expect(await users.filter({ hasText: 'Something short, AGAIN' }).count()).toBe(1);
    expect(await page.getByText(REPLY_TEXT, { exact: true }).count()).toBe(0);
    // On a phone the conversation list is folded away and the message box is on screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.evaluate(() => window.scrollTo(0, 0));
    expect(await page.locator('#chat-history').isVisible()).toBe(false);
    const box = (await page.getByLabel('Message', { exact: true }).boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(844);
    await page.getByRole('button', { name: 'Show conversations' }).click();
    expect(await page.locator('#chat-history').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Hide conversations' }).click();
    await page.setViewportSize({ width: 1280, height: 900 });
    // After the reply ends the view has scrolled to its cost line.
    const visible = await page.getByTestId('reply-meta').last().evaluate((el) => {
      const box = el.getBoundingClientRect();
      const list = el.closest('.messages')!.getBoundingClientRect();
      return box.bottom <= list.bottom + 1 && box.top >= list.top;
    });
    expect(visible).toBe(true);
  });

  it('stops a regenerate while it streams, as it stops a send: what came takes the old reply\'s place', async () => {
    await page.getByRole('button', { name: 'New conversation' }).click();
    await page.getByLabel('Message', { exact: true }).fill('Another LONG story');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('[data-streaming="true"]').getByText(/word3/).waitFor();
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByTestId('reply-stopped').waitFor();
    await page.waitForURL(/#\/chat\/ag_[^/]+\/cv_/);
    const conversationId = decodeURIComponent(/#\/chat\/[^/]+\/([^/?]+)/.exec(page.url())![1]!);
    type Stored = { messages: { id: string; role: string; content: string }[] };
    const read = () => api<Stored>(baseUrl, key, 'GET', `/api/conversations/${conversationId}`);
    await expect.poll(async () => (await read()).messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    const old = (await read()).messages[1]!;

    // The page reloads the stored conversation, and the last reply offers Regenerate.
    await page.reload();
    await page.getByRole('button', { name: 'Regenerate' }).click();
    await page.locator('[data-streaming="true"]').getByText(/word3/).waitFor();
    expect(await page.getByTestId('assistant-message').count()).toBe(1);
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByTestId('reply-stopped').waitFor();
    const shown = (await page.getByTestId('assistant-message').locator('.message-text').textContent())!.trim();
    expect(LONG_REPLY.startsWith(shown)).toBe(true);
    expect(await page.getByTestId('user-message').count()).toBe(1);
    // The server kept the stopped reply in place of the old one: one user turn, one reply, a new one.
    await expect.poll(async () => (await read()).messages.map((m) => (m.id === old.id ? 'the old reply' : m.role))).toEqual(['user', 'assistant']);
    const after = (await read()).messages;
    expect(after.map((m) => [m.role, m.content === 'Another LONG story'])).toEqual([
      ['user', true],
      ['assistant', false],
    ]);
    expect(after[1]!.id).not.toBe(old.id);
    expect(LONG_REPLY.startsWith(after[1]!.content.trim())).toBe(true);
  });

  it('shows the old reply again, with the error, when a regenerate fails (LLM down), as the server kept it', async () => {
    await page.getByRole('button', { name: 'New conversation' }).click();
    await page.getByLabel('Message', { exact: true }).fill('AGAIN while DOWN');
    await page.getByRole('button', { name: 'Send' }).click();
    const reply = page.getByTestId('assistant-message');
    await reply.getByTestId('reply-meta').waitFor();
    await page.getByRole('button', { name: 'Regenerate' }).click();
    await page.getByRole('alert').filter({ hasText: /unavailable/i }).waitFor();
    expect(await reply.count()).toBe(1);
    expect(await reply.locator('.message-text').textContent()).toBe(REPLY_TEXT);
    expect(await page.getByTestId('user-message').count()).toBe(1);
    await page.getByRole('button', { name: 'Regenerate' }).waitFor();
    const conversationId = decodeURIComponent(/#\/chat\/[^/]+\/([^/?]+)/.exec(page.url())![1]!);
    const stored = await api<{ messages: { role: string; content: string }[] }>(baseUrl, key, 'GET', `/api/conversations/${conversationId}`);
    expect(stored.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'AGAIN while DOWN'],
      ['assistant', REPLY_TEXT],
    ]);
  });

  it('lists conversations titled by their first message, newest first, with rename (stored on the server) and delete', async () => {
    const { id: lister } = await api<{ id: string }>(baseUrl, key, 'POST', '/api/agents', { name: 'Lister', systemPrompt: 'x', provider: 'anthropic', model: 'claude-sonnet-4-5' });
    await api(baseUrl, key, 'POST', `/api/agents/${lister}/messages`, { content: 'Oldest question' });
    const newest = await api<{ conversationId: string }>(baseUrl, key, 'POST', `/api/agents/${lister}/messages`, { content: 'Newest question' });
    await page.goto(`/#/chat/${lister}`);
    const titles = page.locator('.conversation-title');
    await expect.poll(() => titles.allTextContents()).toEqual(['Newest question', 'Oldest question']);

    await page.getByRole('button', { name: 'Rename Oldest question' }).click();
    const field = page.getByLabel('New title (empty: the first message)');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('rename-conversation');
    await field.fill('Renamed one');
    await page.keyboard.press('Enter');
    await expect.poll(() => titles.allTextContents()).toEqual(['Newest question', 'Renamed one']);
    await page.reload();
    await expect.poll(() => titles.allTextContents()).toEqual(['Newest question', 'Renamed one']);
    // The title is the server's: another browser context (no shared storage) sees it too.
    const elsewhere = await browser.newPage(baseUrl);
    await signIn(elsewhere, key, 'Chat', `/#/chat/${lister}`);
    const titlesElsewhere = elsewhere.locator('.conversation-title');
    await expect.poll(() => titlesElsewhere.allTextContents()).toEqual(['Newest question', 'Renamed one']);
    expect(await elsewhere.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('agentik.titles')))).toEqual([]);
    // An empty title goes back to the first message, for everyone.
    await elsewhere.getByRole('button', { name: 'Rename Renamed one' }).click();
    await elsewhere.getByLabel('New title (empty: the first message)').fill('');
    await elsewhere.keyboard.press('Enter');
    await expect.poll(() => titlesElsewhere.allTextContents()).toEqual(['Newest question', 'Oldest question']);
    await elsewhere.context().close();
    await page.reload();
    await expect.poll(() => titles.allTextContents()).toEqual(['Newest question', 'Oldest question']);
    await page.getByRole('button', { name: 'Rename Oldest question' }).click();
    await page.getByLabel('New title (empty: the first message)').fill('Renamed one');
    await page.keyboard.press('Enter');
    await expect.poll(() => titles.allTextContents()).toEqual(['Newest question', 'Renamed one']);

    await page.getByRole('button', { name: 'Delete Newest question' }).click();
    await page.getByRole('dialog', { name: 'Delete this conversation?' }).waitFor();
    await screenshots(page, 'dialog-delete-conversation');
    await page.getByRole('button', { name: 'Delete conversation' }).click();
    await expect.poll(() => titles.allTextContents()).toEqual(['Renamed one']);
    const gone = await fetch(`${baseUrl}/api/conversations/${newest.conversationId}`, { headers: { authorization: `Bearer ${key}` } });
    expect(gone.status).toBe(404);
  });

  it('keeps the session across tabs only when "remember on this device" is ticked', async () => {
    const one = await browser.newPage(baseUrl);
    await one.goto('/');
    await one.getByLabel('API key', { exact: true }).fill(key);
    await one.getByLabel('Remember on this device').check();
    await one.getByRole('button', { name: 'Sign in' }).click();
    await one.getByRole('heading', { name: 'Agents', level: 1 }).waitFor();
    const another = await one.context().newPage();
    await another.goto(`${baseUrl}/#/costs`);
    await another.getByRole('heading', { name: 'Costs', level: 1 }).waitFor();
    await another.getByRole('button', { name: 'Sign out' }).click();
    await another.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    expect(await another.evaluate(() => localStorage.getItem('agentik.session'))).toBeNull();
    await one.context().close();
    // Without the tick (the default) nothing reaches localStorage.
    expect(await page.evaluate(() => localStorage.getItem('agentik.session'))).toBeNull();
  });
});

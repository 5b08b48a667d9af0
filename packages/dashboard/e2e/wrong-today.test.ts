/**
 * The six things the dashboard got wrong (issue "wrong today"), each as a user meets it, against
 * the real runtime and the fake LLM.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { api, launchBrowser, screenshots, signIn, type TestBrowser } from './browser';

const baseUrl = inject('baseUrl');
const operatorKey = inject('operatorKey');

interface Agent {
  id: string;
}

async function tenantWithAgent(slug: string, agentName: string, agent: Record<string, unknown> = {}): Promise<{ agent: Agent; key: (role: string) => Promise<string> }> {
  await api(baseUrl, operatorKey, 'POST', '/api/tenants', { name: `${slug} co`, slug, owner: `ops@${slug}.example` });
  const created = await api<Agent>(
    baseUrl,
    operatorKey,
    'POST',
    '/api/agents',
    { name: agentName, systemPrompt: 'Be brief.', provider: 'anthropic', model: 'claude-sonnet-4-5', ...agent },
    slug,
  );
  return {
    agent: created,
    key: async (role) => (await api<{ key: string }>(baseUrl, operatorKey, 'POST', `/api/tenants/${slug}/keys`, { role, name: `${role} e2e` })).key,
  };
}

describe('wrong today', () => {
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  const fresh = async () => {
    await page?.context().close();
    page = await browser.newPage(baseUrl);
    return page;
  };

  it('1: switching tenant with a conversation open resets the chat to the new tenant, and Send works there', async () => {
    const a = await tenantWithAgent('switch-a', 'Agent of A');
    const b = await tenantWithAgent('switch-b', 'Agent of B');
    const first = await api<{ conversationId: string }>(baseUrl, operatorKey, 'POST', `/api/agents/${a.agent.id}/messages`, { content: 'A secret about tenant A' }, 'switch-a');
    await fresh();
    await signIn(page, operatorKey, 'Tenants');
    await page.getByLabel('Tenant', { exact: true }).selectOption('switch-a');
    await page.goto(`/#/chat/${a.agent.id}/${first.conversationId}`);
    await page.getByTestId('user-message').getByText('A secret about tenant A').waitFor();

    await page.getByLabel('Tenant', { exact: true }).selectOption('switch-b');
    await page.waitForURL(/#\/chat$/);
    expect(await page.getByLabel('Agent', { exact: true }).inputValue()).toBe(b.agent.id);
    expect(await page.getByText('A secret about tenant A').count()).toBe(0);
    await page.getByLabel('Message', { exact: true }).fill('Hello B');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByTestId('reply-meta').waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    const conversations = await api<{ data: { agentId: string }[] }>(baseUrl, operatorKey, 'GET', '/api/conversations', undefined, 'switch-b');
    expect(conversations.data.map((c) => c.agentId)).toEqual([b.agent.id]);
  });

  it('2: a send that fails (LLM down) and is retried shows the message once, as the server stored it', async () => {
    const t = await tenantWithAgent('retry-e2e', 'Retry bot');
    const key = await t.key('owner');
    await fresh();
    await signIn(page, key, 'Chat', `/#/chat/${t.agent.id}`);
    const box = page.getByLabel('Message', { exact: true });
    await box.fill('FLAKY where is my parcel?');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('alert').waitFor();
    // The text is back in the box, and nothing is shown that the server did not keep.
    expect(await box.inputValue()).toBe('FLAKY where is my parcel?');
    expect(await page.getByTestId('user-message').count()).toBe(0);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByTestId('reply-meta').waitFor();
    expect(await page.getByTestId('user-message').count()).toBe(1);
    const conversationId = /\/(cv_[^/]+)$/.exec(page.url())![1]!;
    const stored = await api<{ messages: { role: string }[] }>(baseUrl, key, 'GET', `/api/conversations/${conversationId}`);
    expect(stored.messages.filter((m) => m.role === 'user')).toHaveLength(1);
  });

  it('3: each role sees only what it may do, and a viewer is told why', async () => {
    const t = await tenantWithAgent('roles-e2e', 'Role bot');
    const expected = {
      viewer: { newAgent: 0, edit: 0, message: 0, keys: 0, note: 1, budget: 0 },
      member: { newAgent: 1, edit: 1, message: 1, keys: 0, note: 0, budget: 0 },
      admin: { newAgent: 1, edit: 1, message: 1, keys: 1, note: 0, budget: 1 },
      owner: { newAgent: 1, edit: 1, message: 1, keys: 1, note: 0, budget: 1 },
    };
    for (const [role, want] of Object.entries(expected)) {
      const key = await t.key(role);
      await fresh();
      await signIn(page, key, 'Agents');
      await page.getByRole('cell', { name: /anthropic · claude-sonnet-4-5/ }).waitFor();
      expect((await page.getByTestId('identity').textContent())!.replace(/\s+/g, ' ')).toBe(`roles-e2e co · ${role}`);
      const seen = {
        newAgent: await page.getByRole('link', { name: 'New agent' }).count(),
        edit: await page.getByRole('link', { name: 'Edit Role bot' }).count(),
        note: await page.getByTestId('read-only').count(),
        keys: await page.getByRole('link', { name: 'Keys' }).count(),
        message: 0,
        budget: 0,
      };
      if (role === 'viewer') await screenshots(page, 'agents-viewer');
      await page.getByRole('link', { name: 'Chat with Role bot' }).click();
      await page.getByRole('heading', { name: 'Chat', level: 1 }).waitFor();
      await page.getByLabel('Agent', { exact: true }).waitFor();
      seen.message = await page.getByLabel('Message', { exact: true }).count();
      await page.getByRole('link', { name: 'Costs' }).click();
      await page.getByRole('heading', { name: 'Budget', exact: true }).waitFor();
      seen.budget = await page.getByRole('button', { name: 'Save budget' }).count();
      expect({ role, ...seen }).toEqual({ role, ...want });
    }
  });

  it('4: a revoked key (own or elsewhere) goes back to sign-in saying why; a suspended tenant is named as such', async () => {
    const t = await tenantWithAgent('revoke-e2e', 'Revoke bot');
    // Revoking the key you are signed in with: warned first, then signed out with the reason.
    // (The tenant keeps an owner key: the last one cannot be revoked.)
    const owner = await t.key('owner');
    const own = await t.key('admin');
    await fresh();
    await signIn(page, own, 'Agents');
    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    // An admin is not offered what only an owner may do: revoking an owner key, issuing one.
    await page.getByRole('button', { name: 'Revoke admin e2e' }).waitFor();
    expect(await page.getByRole('button', { name: 'Revoke owner e2e' }).count()).toBe(0);
    expect(await page.getByLabel('Role', { exact: true }).locator('option').allTextContents()).toEqual(['admin', 'member', 'viewer']);
    await page.getByRole('button', { name: 'Revoke admin e2e' }).click();
    await page.getByTestId('own-key-warning').waitFor();
    await screenshots(page, 'dialog-revoke-own-key');
    await page.getByRole('button', { name: 'Revoke key' }).click();
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    expect(await page.getByTestId('signed-out-reason').textContent()).toContain('You revoked the key you were signed in with');

    // Revoked elsewhere: the next request sends the user back to sign-in.
    const other = await t.key('member');
    await fresh();
    await signIn(page, other, 'Agents');
    const keys = await api<{ data: { id: string; name: string | null }[] }>(baseUrl, operatorKey, 'GET', '/api/keys', undefined, 'revoke-e2e');
    const id = keys.data.find((k) => k.name === 'member e2e')!.id;
    await api(baseUrl, operatorKey, 'DELETE', `/api/keys/${id}`, undefined, 'revoke-e2e');
    await page.getByRole('link', { name: 'Costs' }).click();
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    expect(await page.getByTestId('signed-out-reason').textContent()).toContain('revoked or has expired');
    await screenshots(page, 'sign-in-revoked');

    // A suspended tenant's owner is told so, not "tenant not found".
    await api(baseUrl, operatorKey, 'POST', '/api/tenants/revoke-e2e/suspend');
    await fresh();
    await signIn(page, owner, 'This tenant is suspended');
    expect(await page.getByText(/tenant not found/i).count()).toBe(0);
    await screenshots(page, 'suspended');
  });

  it('5: a hard budget refusal says what it counted; sub-cent limits are accepted; one spend shows one way', async () => {
    const t = await tenantWithAgent('budget-e2e', 'Budget bot', { maxTokens: 1000 });
    const key = await t.key('owner');
    await fresh();
    await signIn(page, key, 'Agents');
    // A limit under one cent goes through the form.
    await page.getByRole('link', { name: 'Costs' }).click();
    await page.getByLabel('Monthly limit (USD)', { exact: true }).fill('0.005');
    await page.getByRole('button', { name: 'Save budget' }).click();
    await page.getByText('Budget saved.').waitFor();
    await page.getByText(/of \$0\.005 spent/).waitFor();
    // One call at 1000 max tokens may cost up to $0.015 at $15 per million output tokens.
    await page.getByRole('link', { name: 'Chat' }).click();
    await page.getByLabel('Message', { exact: true }).fill('Hello');
    await page.getByRole('button', { name: 'Send' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/up to \$0\.015\d* for this call at 1000 max tokens; \$0\.005 left/);
    await page.getByTestId('budget-hint').waitFor();
    await screenshots(page, 'chat-budget-refused');
    // The same spend, once it exists, reads the same in the total and in the gauge.
    await page.getByLabel('Monthly limit (USD)', { exact: true }).count();
    await api(baseUrl, key, 'PUT', '/api/budget', { monthlyLimitUsd: 5, hard: true });
    for (let i = 0; i < 2; i++) await api(baseUrl, key, 'POST', `/api/agents/${t.agent.id}/messages`, { content: 'Hi' });
    await page.getByRole('link', { name: 'Costs' }).click();
    const total = (await page.getByTestId('total-spend').textContent())!;
    expect(total).toBe('$0.000384');
    expect(await page.getByTestId('budget-spent').textContent()).toBe(total);
  });

  it('6: a tenant sign-in logs no 403, and the agent form offers only the providers the server has', async () => {
    const t = await tenantWithAgent('providers-e2e', 'Provider bot');
    const key = await t.key('member');
    await fresh();
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });
    await signIn(page, key, 'Agents');
    await page.getByRole('link', { name: 'New agent' }).click();
    const provider = page.getByLabel('Provider', { exact: true });
    await provider.locator('option', { hasText: 'anthropic' }).waitFor({ state: 'attached' });
    // This runtime has Ollama (always) and Anthropic (its key is set); not OpenAI.
    expect(await provider.locator('option').allTextContents()).toEqual(['ollama', 'anthropic']);
    expect(failed).toEqual([]);
    // Test connection lists the server's Ollama models and offers them for Model.
    await provider.selectOption('ollama');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByTestId('connection-status').filter({ hasText: /^Connected: \d+ models? on the server's Ollama/ }).waitFor();
    expect(await page.locator('#model-hints option').count()).toBeGreaterThan(0);
    await screenshots(page, 'agent-form-connection');
  });
});

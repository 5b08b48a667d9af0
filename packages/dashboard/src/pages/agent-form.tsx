import { useEffect, useState } from 'react';
import type { Agent, CreateAgentBody, ProviderName } from '@agentik/shared';
import { AsyncList } from '../components/async-list';
import { NumberField } from '../components/number-field';
import { SelectField } from '../components/select-field';
import { FormActions } from '../components/form-actions';
import { ErrorMessage } from '../components/status';
import { PROVIDERS } from '../lib/choices';
import { useSubmit } from '../lib/use-action';
import { useAsync } from '../lib/use-async';
import { useSession } from '../session-context';

/** Suggestions only: any model name the provider knows is accepted. */
const MODEL_HINTS: Record<ProviderName, string[]> = {
  ollama: ['llama3.2', 'qwen2.5', 'mistral'],
  openai: ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini'],
  'openai-compatible': ['local-model'],
  anthropic: ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-5'],
};

interface Draft {
  name: string;
  description: string;
  systemPrompt: string;
  provider: ProviderName;
  model: string;
  temperature: string;
  maxTokens: string;
  tools: string[];
}

function draftOf(agent: Agent | null): Draft {
  return {
    name: agent?.name ?? '',
    description: agent?.description ?? '',
    systemPrompt: agent?.systemPrompt ?? 'You are a helpful assistant.',
    provider: agent?.provider ?? 'ollama',
    model: agent?.model ?? '',
    temperature: agent?.temperature === null || agent?.temperature === undefined ? '' : String(agent.temperature),
    maxTokens: agent?.maxTokens === null || agent?.maxTokens === undefined ? '' : String(agent.maxTokens),
    tools: agent?.tools ?? [],
  };
}

/** The body to send; blank optional numbers are left out (create) or cleared (edit). */
function bodyOf(d: Draft): CreateAgentBody & { description?: string } {
  const body: CreateAgentBody = {
    name: d.name.trim(),
    systemPrompt: d.systemPrompt,
    provider: d.provider,
    model: d.model.trim(),
    tools: d.tools,
  };
  if (d.description.trim()) body.description = d.description.trim();
  if (d.temperature.trim() !== '') body.temperature = Number(d.temperature);
  if (d.maxTokens.trim() !== '') body.maxTokens = Number(d.maxTokens);
  return body;
}

/** The providers whose models the server lists (`GET /api/providers/:name/models`), and where they are. */
const LISTED_AT: Partial<Record<ProviderName, string>> = {
  ollama: "the server's Ollama",
  openai: 'OpenAI',
  'openai-compatible': "the server's OpenAI-compatible endpoint",
};

/** "New agent" and "Edit agent": every field of an agent, and its tools from `GET /api/tools`. */
export function AgentForm({ agent, onSaved, onCancel }: { agent: Agent | null; onSaved: (a: Agent) => void; onCancel: () => void }) {
  const { client } = useSession();
  const tools = useAsync(() => client.listTools(), [client]);
  const providers = useAsync(() => client.availableProviders(), [client]);
  const [draft, setDraft] = useState<Draft>(() => draftOf(agent));
  const available = providers.data?.data.map((p) => p.name) ?? [];
  // Only what the server (or the tenant) has configured; an agent's current provider stays listed.
  const offered = PROVIDERS.filter((p) => available.includes(p) || (agent !== null && agent.provider === p));
  useEffect(() => {
    if (!agent && available.length > 0 && !available.includes(draft.provider)) set('provider', available[0]!);
  }, [providers.data]);
  const set = <K extends keyof Draft>(field: K, value: Draft[K]) => setDraft((d) => ({ ...d, [field]: value }));

  // "Test connection" lists the models of the server's provider (Ollama's installed ones, an
  // OpenAI or OpenAI-compatible server's /v1/models), which then fill the Model suggestions.
  const [listed, setListed] = useState<{ provider: ProviderName; names: string[] } | null>(null);
  const installed = listed?.provider === draft.provider ? listed.names : null;
  const [testing, setTesting] = useState(false);
  const [connectionError, setConnectionError] = useState<unknown>(null);
  const testConnection = async () => {
    setTesting(true);
    setConnectionError(null);
    setListed(null);
    const provider = draft.provider;
    try {
      setListed({ provider, names: (await client.providerModels(provider)).data.map((m) => m.name) });
    } catch (e) {
      setConnectionError(e);
    } finally {
      setTesting(false);
    }
  };

  // On success the form goes away, so it stays busy.
  const { busy, error, onSubmit } = useSubmit(
    async () => {
      const body = bodyOf(draft);
      const saved = agent
        ? await client.updateAgent(agent.id, {
            ...body,
            description: body.description ?? null,
            temperature: body.temperature ?? null,
            maxTokens: body.maxTokens ?? null,
          })
        : await client.createAgent(body);
      onSaved(saved);
    },
    { staysBusy: true },
  );

  const title = agent ? `Edit ${agent.name}` : 'New agent';
  return (
    <form className="card" onSubmit={onSubmit} aria-labelledby="agent-form-title">
      <h2 id="agent-form-title">{title}</h2>
      <div className="grid">
        <div className="field">
          <label htmlFor="agent-name">Name</label>
          <input id="agent-name" required maxLength={100} value={draft.name} onChange={(e) => set('name', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="agent-description">Description</label>
          <input id="agent-description" maxLength={2000} placeholder="optional" value={draft.description} onChange={(e) => set('description', e.target.value)} />
        </div>
      </div>
      <div className="field">
        <label htmlFor="agent-prompt">System prompt</label>
        <textarea id="agent-prompt" rows={4} maxLength={100_000} value={draft.systemPrompt} onChange={(e) => set('systemPrompt', e.target.value)} />
      </div>
      <div className="grid">
        <div>
          <SelectField id="agent-provider" label="Provider" value={draft.provider} options={offered.length ? offered : [draft.provider]} onChange={(p) => set('provider', p)} />
          {providers.error ? <ErrorMessage error={providers.error} /> : null}
          {agent && !providers.loading && !available.includes(agent.provider) ? (
            <p className="hint" role="note">
              {agent.provider} is not configured on this server any more: this agent&apos;s calls fail until it is, or until you pick another provider.
            </p>
          ) : null}
        </div>
        <div className="field">
          <label htmlFor="agent-model">Model</label>
          <input id="agent-model" required maxLength={200} list="model-hints" value={draft.model} onChange={(e) => set('model', e.target.value)} />
          <datalist id="model-hints">
            {(installed ?? MODEL_HINTS[draft.provider]).map((m) => (
              <option key={m} value={m} />
            ))}
          </datalist>
          {draft.provider in LISTED_AT ? (
            <div className="actions">
              <button type="button" className="button-small button-secondary" onClick={() => void testConnection()} disabled={testing}>
                {testing ? 'Testing…' : 'Test connection'}
              </button>
              <span role="status" className="hint" data-testid="connection-status">
                {installed
                  ? `Connected: ${installed.length} model${installed.length === 1 ? '' : 's'} on ${LISTED_AT[draft.provider]}, offered in Model.`
                  : ''}
              </span>
            </div>
          ) : null}
          <ErrorMessage error={connectionError} />
        </div>
        <NumberField
          id="agent-temperature"
          label="Temperature"
          min={0}
          max={2}
          step={0.1}
          inputMode="decimal"
          placeholder="model default"
          value={draft.temperature}
          onChange={(v) => set('temperature', v)}
        />
        <NumberField
          id="agent-max-tokens"
          label="Max tokens"
          min={1}
          max={1_000_000}
          step={1}
          inputMode="numeric"
          placeholder="server default"
          value={draft.maxTokens}
          onChange={(v) => set('maxTokens', v)}
        />
      </div>
      <fieldset className="tools">
        <legend>Tools</legend>
        <AsyncList list={tools} loadingLabel="Loading tools…" empty={<p className="muted">This server has no built-in tools.</p>}>
          {(rows) =>
            rows.map((tool) => (
              <div className="check" key={tool.name}>
                <input
                  type="checkbox"
                  id={`tool-${tool.name}`}
                  checked={draft.tools.includes(tool.name)}
                  onChange={(e) => set('tools', e.target.checked ? [...draft.tools, tool.name] : draft.tools.filter((t) => t !== tool.name))}
                  aria-describedby={`tool-${tool.name}-help`}
                />
                <label htmlFor={`tool-${tool.name}`}>{tool.name}</label>
                <span id={`tool-${tool.name}-help`} className="hint">
                  {tool.description}
                </span>
              </div>
            ))
          }
        </AsyncList>
      </fieldset>
      <FormActions error={error} disabled={busy} onCancel={onCancel}>
        {busy ? 'Saving…' : agent ? 'Save changes' : 'Create agent'}
      </FormActions>
    </form>
  );
}

import { z } from 'zod';
import { IsoDate } from './common.js';
import { ProviderName } from './agent.js';

/** `PUT /api/providers/:name`: the tenant's own endpoint and key for a provider. */
export const ProviderCredentialBody = z.strictObject({
  baseUrl: z.url({ protocol: /^https?$/ }).max(2_000).nullable().optional(),
  apiKey: z.string().min(1).max(4_096).nullable().optional(),
});

export const ProviderParams = z.strictObject({ name: ProviderName });

/** A provider setting as shown: never the key, only whether one is set. */
export const ProviderCredential = z.object({
  provider: ProviderName,
  baseUrl: z.string().nullable(),
  hasApiKey: z.boolean(),
  updatedAt: IsoDate,
});
export type ProviderCredential = z.infer<typeof ProviderCredential>;

export const ProviderCredentialList = z.object({ data: z.array(ProviderCredential) });

export const ToolInfo = z.object({ name: z.string(), description: z.string(), parameters: z.record(z.string(), z.unknown()) });
export const ToolList = z.object({ data: z.array(ToolInfo) });

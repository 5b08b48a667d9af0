import type { Kysely } from 'kysely';
import type { ProviderCredentialRepository } from '../port.js';
import type { ProviderCredentialRecord } from '../records.js';
import { compileOnce, type QueryRunner } from './compiled-query.js';
import type { ProviderCredentialsTable, TenantDb } from './tables.js';

export function credentialFromRow(r: ProviderCredentialsTable): ProviderCredentialRecord {
  return { provider: r.provider, baseUrl: r.base_url, apiKeyCiphertext: r.api_key, updatedAt: Number(r.updated_at) };
}

const credentialOf = compileOnce((db: Kysely<TenantDb>, provider: string) =>
  db.selectFrom('provider_credentials').selectAll().where('provider', '=', provider),
);
/** Every run reads the list (the provider stage): compiled once, run as the point reads are. */
const allCredentials = compileOnce((db: Kysely<TenantDb>) => db.selectFrom('provider_credentials').selectAll().orderBy('provider'));

/** A tenant's own provider endpoints and (encrypted) keys. */
export function createProviderCredentialRepository(db: Kysely<TenantDb>, runner: QueryRunner): ProviderCredentialRepository {
  return {
    async put(c) {
      const values = { base_url: c.baseUrl, api_key: c.apiKeyCiphertext, updated_at: c.updatedAt };
      await db
        .insertInto('provider_credentials')
        .values({ provider: c.provider, ...values })
        .onConflict((oc) => oc.column('provider').doUpdateSet(values))
        .execute();
    },
    async get(provider) {
      const [row] = await runner.read(db, credentialOf(db, provider));
      return row && credentialFromRow(row);
    },
    async list() {
      return (await runner.read(db, allCredentials(db))).map(credentialFromRow);
    },
    async delete(provider) {
      const result = await db.deleteFrom('provider_credentials').where('provider', '=', provider).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

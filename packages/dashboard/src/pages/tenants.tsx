import { useEffect, useState } from 'react';
import type { CreatedKey, LimitName, Plan, Role, Tenant, UpdateTenantBody } from '@agentik/shared';
import { AsyncList } from '../components/async-list';
import { ConfirmDialog } from '../components/confirm-dialog';
import { CursorPager } from '../components/cursor-pager';
import { FormActions } from '../components/form-actions';
import { NumberField } from '../components/number-field';
import { SecretOnce } from '../components/secret-once';
import { SelectField } from '../components/select-field';
import { Empty, ErrorMessage, Notice } from '../components/status';
import { Table } from '../components/table';
import { LIMITS, PLANS, ROLES } from '../lib/choices';
import { formatDateTime, formatUsd, slugify } from '../lib/format';
import { navigate } from '../lib/router';
import { useAction, useSubmit } from '../lib/use-action';
import { useAsync } from '../lib/use-async';
import { useSession } from '../session-context';

type Action = { kind: 'key' | 'delete' | 'limits' | 'suspend'; tenant: Tenant } | null;

export function TenantsPage() {
  const { client, session, chooseTenant, tenantsChanged } = useSession();
  const [cursor, setCursor] = useState<string | null>(null);
  const tenants = useAsync(() => client.listTenants(cursor), [client, cursor]);
  const liveIds = (tenants.data?.data ?? []).filter((t) => t.status !== 'deleted').map((t) => t.id);
  const usage = useAsync(
    () => (liveIds.length ? client.tenantUsage(liveIds) : Promise.resolve({ period: '', data: [] })),
    // Again whenever the list loads (a key issued, a tenant suspended): counts may have changed.
    [client, tenants.data],
  );
  const usageOf = new Map((usage.data?.data ?? []).map((u) => [u.id, u]));
  const [action, setAction] = useState<Action>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const { error, setError, run } = useAction();
  // The accessible name of the button whose panel (issue key, limits) just closed: the focus goes
  // back to it once the list shows it again, not to the top of the page.
  const [returnFocus, setReturnFocus] = useState<string | null>(null);
  useEffect(() => {
    if (returnFocus === null) return;
    const button = document.querySelector<HTMLElement>(`button[aria-label="${CSS.escape(returnFocus)}"]`);
    if (!button) return;
    button.focus();
    setReturnFocus(null);
  }, [returnFocus, tenants.data]);

  const changed = (message: string) => {
    setNotice(message);
    setError(null);
    tenants.reload();
    tenantsChanged();
  };

  return (
    <section className="page" aria-labelledby="tenants-title">
      <h1 id="tenants-title">Tenants</h1>
      <CreateTenant onCreated={(t) => changed(`Tenant ${t.name} (${t.slug}) created.`)} />
      {notice ? <Notice>{notice}</Notice> : null}
      <ErrorMessage error={error} />
      {action?.kind === 'key' ? (
        <IssueKey
          tenant={action.tenant}
          onClose={() => {
            setAction(null);
            setReturnFocus(`Issue key for ${action.tenant.slug}`);
            tenants.reload();
          }}
        />
      ) : action?.kind === 'limits' ? (
        <EditLimits
          tenant={action.tenant}
          onCancel={() => {
            setAction(null);
            setReturnFocus(`Edit limits of ${action.tenant.slug}`);
          }}
          onSaved={(t) => {
            setAction(null);
            setReturnFocus(`Edit limits of ${t.slug}`);
            changed(`Limits of ${t.slug} saved.`);
          }}
        />
      ) : action?.kind === 'delete' ? (
        <DeleteTenant
          tenant={action.tenant}
          onCancel={() => setAction(null)}
          onDeleted={() => {
            if (session.tenant === action.tenant.slug) chooseTenant(null);
            setAction(null);
            changed(`Tenant ${action.tenant.slug} deleted.`);
          }}
        />
      ) : action?.kind === 'suspend' ? (
        <ConfirmDialog
          titleId="suspend-tenant-title"
          title={`Suspend ${action.tenant.name}?`}
          confirmLabel="Suspend tenant"
          onCancel={() => setAction(null)}
          onConfirm={() =>
            void run(async () => {
              await client.setTenantStatus(action.tenant.id, 'suspend');
              if (session.tenant === action.tenant.slug) chooseTenant(null);
              setAction(null);
              changed(`Tenant ${action.tenant.slug} suspended.`);
            })
          }
        >
          <p>Its keys stop working and its agents cannot be used until you resume it. Nothing is deleted.</p>
        </ConfirmDialog>
      ) : null}
      <h2>All tenants</h2>
      <AsyncList
        list={tenants}
        loadingLabel="Loading tenants…"
        empty={
          <Empty title="No tenants yet.">
            <p>Create the first one with the form above.</p>
          </Empty>
        }
      >
        {(rows) => (
          <Table
            caption="Tenants"
            rows={rows}
            rowKey={(t) => t.id}
            columns={[
              { header: 'Name', cell: (t) => <strong>{t.name}</strong> },
              { header: 'Slug', cell: (t) => <code>{t.slug}</code> },
              { header: 'Owner', cell: (t) => t.owner },
              { header: 'Plan', cell: (t) => t.plan },
              { header: 'Limits', cell: (t) => <LimitsSummary tenant={t} /> },
              { header: 'Status', cell: (t) => <span className={`badge badge-${t.status}`}>{t.status}</span> },
              {
                header: 'Spent this month',
                numeric: true,
                cell: (t) => <span data-testid={`spend-${t.slug}`}>{usageOf.has(t.id) ? formatUsd(usageOf.get(t.id)!.spentUsd) : '—'}</span>,
              },
              {
                header: 'Keys',
                numeric: true,
                cell: (t) => <span data-testid={`keys-${t.slug}`}>{usageOf.has(t.id) ? String(usageOf.get(t.id)!.liveKeys) : '—'}</span>,
              },
              { header: 'Created', cell: (t) => formatDateTime(t.createdAt) },
              {
                header: 'Actions',
                cell: (t) =>
                  t.status === 'deleted' ? (
                    <span className="muted small">deleted {formatDateTime(t.deletedAt)}</span>
                  ) : (
                    <div className="row-actions">
                      {t.status === 'active' ? (
                        <button
                          type="button"
                          className="button-small"
                          aria-label={`Act in ${t.slug}`}
                          onClick={() => {
                            chooseTenant(t.slug);
                            navigate('/agents');
                          }}
                        >
                          Act in
                        </button>
                      ) : null}
                      <button type="button" className="button-small button-secondary" onClick={() => setAction({ kind: 'limits', tenant: t })} aria-label={`Edit limits of ${t.slug}`}>
                        Limits
                      </button>
                      <button type="button" className="button-small button-secondary" onClick={() => setAction({ kind: 'key', tenant: t })} aria-label={`Issue key for ${t.slug}`}>
                        Issue key
                      </button>
                      <button
                        type="button"
                        className="button-small button-secondary"
                        aria-label={`${t.status === 'active' ? 'Suspend' : 'Resume'} ${t.slug}`}
                        onClick={() =>
                          t.status === 'active'
                            ? setAction({ kind: 'suspend', tenant: t })
                            : void run(async () => {
                                await client.setTenantStatus(t.id, 'resume');
                                changed(`Tenant ${t.slug} resumed.`);
                              })
                        }
                      >
                        {t.status === 'active' ? 'Suspend' : 'Resume'}
                      </button>
                      <button type="button" className="button-small button-danger" onClick={() => setAction({ kind: 'delete', tenant: t })} aria-label={`Delete ${t.slug}`}>
                        Delete
                      </button>
                    </div>
                  ),
              },
            ]}
          />
        )}
      </AsyncList>
      <CursorPager cursor={cursor} nextCursor={tenants.data?.nextCursor} onPage={setCursor} />
    </section>
  );
}

function CreateTenant({ onCreated }: { onCreated: (t: Tenant) => void }) {
  const { client } = useSession();
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [owner, setOwner] = useState('');
  const [plan, setPlan] = useState<Plan>('free');
  const { busy, error, onSubmit } = useSubmit(async () => {
    const tenant = await client.createTenant({ name: name.trim(), owner: owner.trim(), plan, ...(slug.trim() ? { slug: slug.trim() } : {}) });
    setName('');
    setSlug('');
    setOwner('');
    onCreated(tenant);
  });

  return (
    <form className="card" onSubmit={onSubmit} aria-labelledby="new-tenant-title">
      <h2 id="new-tenant-title">New tenant</h2>
      <div className="grid">
        <div className="field">
          <label htmlFor="tenant-name">Name</label>
          <input id="tenant-name" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="tenant-slug">Slug</label>
          <input
            id="tenant-slug"
            maxLength={63}
            pattern="[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
            placeholder={name.trim() === '' ? 'from the name' : slugify(name)}
            value={slug}
            onChange={(e) => setSlug(e.target.value)}
            aria-describedby="tenant-slug-help"
          />
          <p id="tenant-slug-help" className="hint">
            Optional. Lowercase letters, digits and hyphens.
          </p>
        </div>
        <div className="field">
          <label htmlFor="tenant-owner">Owner</label>
          <input id="tenant-owner" required maxLength={320} placeholder="ops@example.com" value={owner} onChange={(e) => setOwner(e.target.value)} />
        </div>
        <SelectField id="tenant-plan" label="Plan" value={plan} options={PLANS} onChange={setPlan} />
      </div>
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy}>
        {busy ? 'Creating…' : 'Create tenant'}
      </button>
    </form>
  );
}

function IssueKey({ tenant, onClose }: { tenant: Tenant; onClose: () => void }) {
  const { client } = useSession();
  const [role, setRole] = useState<Role>('owner');
  const [name, setName] = useState('');
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const { busy, error, onSubmit } = useSubmit(async () => {
    setCreated(await client.createTenantKey(tenant.id, { role, ...(name.trim() ? { name: name.trim() } : {}) }));
  });

  if (created) return <SecretOnce secret={created.key} label={`New ${created.role} key for ${tenant.slug}`} onDone={onClose} />;

  return (
    <form className="card" onSubmit={onSubmit} aria-labelledby="issue-key-title">
      <h2 id="issue-key-title">Issue a key for {tenant.name}</h2>
      <div className="grid">
        <SelectField id="issue-role" label="Role" value={role} options={ROLES} onChange={setRole} />
        <div className="field">
          <label htmlFor="issue-name">Key name</label>
          <input id="issue-name" maxLength={100} placeholder="optional" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
      </div>
      <FormActions error={error} disabled={busy} onCancel={onClose}>
        Issue key
      </FormActions>
    </form>
  );
}

/** Deleting a tenant destroys its data: the operator types the slug to confirm. */
function DeleteTenant({ tenant, onCancel, onDeleted }: { tenant: Tenant; onCancel: () => void; onDeleted: () => void }) {
  const { client } = useSession();
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await client.deleteTenant(tenant.id);
      onDeleted();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  const confirmed = typed === tenant.slug;
  return (
    <ConfirmDialog
      titleId="delete-tenant-title"
      title={`Delete ${tenant.name}?`}
      confirmLabel="Delete tenant"
      confirmDisabled={!confirmed}
      busy={busy}
      onCancel={onCancel}
      onConfirm={() => void remove()}
    >
      <p>This revokes every key of the tenant and destroys its agents, conversations and costs. It cannot be undone.</p>
      <form
        className="field"
        onSubmit={(e) => {
          e.preventDefault();
          if (confirmed) void remove();
        }}
      >
        <label htmlFor="confirm-slug">
          Type <code>{tenant.slug}</code> to confirm
        </label>
        <input id="confirm-slug" autoComplete="off" value={typed} onChange={(e) => setTyped(e.target.value)} />
      </form>
      <ErrorMessage error={error} />
    </ConfirmDialog>
  );
}

/** Each effective limit, marked when it is the operator's override rather than the plan's. */
export function LimitsSummary({ tenant }: { tenant: Tenant }) {
  return (
    <ul className="limits small">
      {LIMITS.map(([name, label]) => {
        const limit = tenant.limits[name];
        return (
          <li key={name} data-testid={`limit-${tenant.slug}-${name}`}>
            {label}: {limit.value.toLocaleString('en-US')}{' '}
            <span className={limit.source === 'override' ? 'badge' : 'muted'}>{limit.source}</span>
          </li>
        );
      })}
    </ul>
  );
}

/** The form's text per limit: empty means "the plan's value". */
export type LimitDrafts = Record<LimitName, string>;

export function limitDrafts(tenant: Tenant): LimitDrafts {
  const drafts = {} as LimitDrafts;
  for (const [name] of LIMITS) drafts[name] = tenant.limits[name].source === 'override' ? String(tenant.limits[name].value) : '';
  return drafts;
}

/**
 * The `PATCH /api/tenants/:id` body for what the form changed: a cleared field drops its override
 * (null), a whole number sets it. Throws a message for a value the API would refuse.
 */
export function limitsPatch(tenant: Tenant, plan: Plan, drafts: LimitDrafts): UpdateTenantBody {
  const limits: NonNullable<UpdateTenantBody['limits']> = {};
  for (const [name, label] of LIMITS) {
    const text = drafts[name].trim();
    const current = tenant.limits[name];
    if (text === '') {
      if (current.source === 'override') limits[name] = null;
      continue;
    }
    const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(value) || value < 1 || value > 1_000_000_000) {
      throw new Error(`${label}: a whole number from 1 to 1,000,000,000, or empty for the plan's value.`);
    }
    if (current.source !== 'override' || current.value !== value) limits[name] = value;
  }
  return { ...(plan !== tenant.plan ? { plan } : {}), ...(Object.keys(limits).length > 0 ? { limits } : {}) };
}

/** The operator sets a tenant's plan and overrides its limits; an empty field is the plan's value. */
function EditLimits({ tenant, onCancel, onSaved }: { tenant: Tenant; onCancel: () => void; onSaved: (t: Tenant) => void }) {
  const { client } = useSession();
  const [plan, setPlan] = useState<Plan>(tenant.plan);
  const [drafts, setDrafts] = useState<LimitDrafts>(() => limitDrafts(tenant));
  const { busy, error, onSubmit } = useSubmit(async () => {
    onSaved(await client.updateTenant(tenant.id, limitsPatch(tenant, plan, drafts)));
  });
  return (
    <form className="card" onSubmit={onSubmit} aria-labelledby="limits-title">
      <h2 id="limits-title">Limits of {tenant.name}</h2>
      <p className="hint">Leave a limit empty to use the plan&apos;s value.</p>
      <div className="grid">
        <SelectField id="limits-plan" label="Plan" value={plan} options={PLANS} onChange={setPlan} />
        {LIMITS.map(([name, label]) => (
          <NumberField
            key={name}
            id={`limit-${name}`}
            label={label}
            min={1}
            step={1}
            inputMode="numeric"
            placeholder={tenant.limits[name].source === 'plan' ? `plan: ${tenant.limits[name].value}` : 'plan'}
            value={drafts[name]}
            onChange={(v) => setDrafts((d) => ({ ...d, [name]: v }))}
          />
        ))}
      </div>
      <FormActions error={error} disabled={busy} onCancel={onCancel}>
        Save limits
      </FormActions>
    </form>
  );
}

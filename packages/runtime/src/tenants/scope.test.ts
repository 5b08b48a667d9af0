import { describe, expect, it } from 'vitest';
import type { TenantStore } from '../storage/port.js';
import type { TenantRecord } from '../storage/records.js';
import { TenantScope } from './scope.js';

/** A scope over a counting lease; `released()` is how many times the lease was released. */
function scope() {
  let releases = 0;
  const lease = { store: {} as TenantStore, release: () => void (releases += 1) };
  const s = new TenantScope({ id: 'tn_x' } as TenantRecord, { kind: 'operator', keyId: 'k' }, 'owner', lease);
  return { s, released: () => releases };
}

describe('TenantScope', () => {
  it('holds the lease while the handler runs after its response closed (a client that went away)', async () => {
    const { s, released } = scope();
    let finish!: () => void;
    const running = s.runHandler(() => new Promise<void>((resolve) => (finish = resolve)));
    s.responseClosed();
    expect(released()).toBe(0);
    finish();
    await running;
    expect(released()).toBe(1);
  });

  it('holds the lease until the response closes after the handler finished', async () => {
    const { s, released } = scope();
    expect(await s.runHandler(() => 42)).toBe(42);
    expect(released()).toBe(0);
    s.replying();
    s.responseClosed();
    expect(released()).toBe(1);
  });

  it('releases when a reply goes out before the handler ran (an error before it), once the response closed', () => {
    const { s, released } = scope();
    s.replying();
    expect(released()).toBe(0);
    s.responseClosed();
    expect(released()).toBe(1);
  });

  it('releases once when the handler throws, and passes the error on', async () => {
    const { s, released } = scope();
    s.responseClosed();
    await expect(s.runHandler(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    s.replying();
    expect(released()).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { checkVersionRules, compareVersions, isVersion } from './versions.js';

describe('versions', () => {
  it('orders semantic versions, prereleases before their release', () => {
    const sorted = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.5', '1.1.0', '1.10.0', '2.0.0'];
    const shuffled = [...sorted].reverse();
    expect(shuffled.sort(compareVersions)).toEqual(sorted);
    expect(compareVersions('1.2.3', '1.2.3')).toBe(0);
    expect(compareVersions('1.0.0-1', '1.0.0-a')).toBeLessThan(0);
  });

  it('accepts only MAJOR.MINOR.PATCH with an optional prerelease', () => {
    for (const v of ['1.0.0', '0.1.0', '10.20.30', '1.0.0-rc.1', '1.0.0-x-y.z']) expect(isVersion(v), v).toBe(true);
    for (const v of ['1.0', '1.0.0-', 'v1.0.0', '1.0.0+build', '1.0.0-a_b', '']) expect(isVersion(v), v).toBe(false);
    expect(() => compareVersions('1.0', '1.0.0')).toThrow(/not a version/);
  });
});

describe('version rules', () => {
  const rules = (candidate: string, running: string | undefined, floor: string | undefined, reinstall = false) => {
    try {
      checkVersionRules({ candidate, running, floor, reinstall });
      return 'ok';
    } catch (error) {
      return (error as { code: string }).code;
    }
  };

  it('refuses anything below the floor, even above the running version after a rollback', () => {
    expect(rules('1.0.0', '1.1.0', '1.1.0')).toBe('UPDATE_VERSION_BELOW_FLOOR');
    expect(rules('1.0.5', '1.0.0', '1.1.0')).toBe('UPDATE_VERSION_BELOW_FLOOR');
    expect(rules('1.1.0-rc.1', '1.0.0', '1.1.0')).toBe('UPDATE_VERSION_BELOW_FLOOR');
    expect(rules('1.0.5', '1.0.0', '1.1.0', true)).toBe('UPDATE_VERSION_BELOW_FLOOR');
  });

  it('allows the floor itself again after a rollback, and anything newer', () => {
    expect(rules('1.1.0', '1.0.0', '1.1.0')).toBe('ok');
    expect(rules('1.2.0', '1.1.0', '1.1.0')).toBe('ok');
    expect(rules('1.0.0', undefined, undefined)).toBe('ok');
  });

  it('refuses the running version unless reinstalling', () => {
    expect(rules('1.1.0', '1.1.0', '1.1.0')).toBe('UPDATE_SAME_VERSION');
    expect(rules('1.1.0', '1.1.0', '1.1.0', true)).toBe('ok');
  });
});

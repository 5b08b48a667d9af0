import { describe, expect, it } from 'vitest';
import { SLUG_REGEX } from './ids.js';
import { MAX_DERIVED_SLUG, slugify } from './slugify.js';

describe('slugify', () => {
  it.each([
    ['Acme Corp.', 'acme-corp'],
    ['  Über Café -- 2 ', 'uber-cafe-2'],
    ['Zoë Müller GmbH', 'zoe-muller-gmbh'],
    ['---', 'tenant'],
    ['日本語', 'tenant'],
  ])('turns %j into %j', (name, slug) => {
    expect(slugify(name)).toBe(slug);
    expect(slug).toMatch(SLUG_REGEX);
  });

  it('cuts at MAX_DERIVED_SLUG characters and never ends on a hyphen, leaving room for a suffix', () => {
    expect(slugify(`${'a'.repeat(49)} ${'b'.repeat(30)}`)).toBe('a'.repeat(49));
    expect(slugify('x'.repeat(80))).toHaveLength(MAX_DERIVED_SLUG);
    expect(`${slugify('x'.repeat(80))}-abcdef`).toMatch(SLUG_REGEX);
  });
});

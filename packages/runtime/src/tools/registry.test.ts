import { describe, expect, it } from 'vitest';
import { BUILT_IN_TOOLS, ToolInputError, unknownTools } from './registry.js';

const NOW = Date.parse('2026-03-15T12:34:56.000Z');
const now = () => NOW;

function tool(name: string) {
  const t = BUILT_IN_TOOLS.get(name);
  if (!t) throw new Error(`no tool ${name}`);
  return t;
}

describe('built-in tool registry', () => {
  it('has a clock and a calculator, each with an object JSON schema', () => {
    expect([...BUILT_IN_TOOLS.keys()].sort()).toEqual(['calculator', 'current_time']);
    for (const t of BUILT_IN_TOOLS.values()) {
      expect(t.spec.description.length).toBeGreaterThan(10);
      expect(t.spec.parameters).toMatchObject({ type: 'object', additionalProperties: false });
    }
    expect(tool('calculator').spec.parameters).toMatchObject({ required: ['expression'] });
  });

  it('names the tools that are not built in', () => {
    expect(unknownTools(['calculator', 'shell', 'current_time', 'http'])).toEqual(['shell', 'http']);
    expect(unknownTools([])).toEqual([]);
  });
});

describe('calculator', () => {
  it('returns the expression and its result as JSON', async () => {
    expect(JSON.parse(await tool('calculator').run({ expression: '(2 + 3) * 4 ^ 2' }, now))).toEqual({
      expression: '(2 + 3) * 4 ^ 2',
      result: 80,
    });
  });

  it.each([[{}], [null], [{ expression: 42 }], ['1+1']])('refuses arguments %j with a message for the model', async (args) => {
    await expect(tool('calculator').run(args, now)).rejects.toThrow(new ToolInputError('expression must be a string'));
  });

  it('turns arithmetic errors into input errors the model can read', async () => {
    const error = await tool('calculator').run({ expression: '1 / 0' }, now).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolInputError);
    expect((error as Error).message).toBe('result is not a finite number');
  });
});

describe('current_time', () => {
  it('uses the injected clock, in UTC by default', async () => {
    expect(JSON.parse(await tool('current_time').run({}, now))).toEqual({
      iso: '2026-03-15T12:34:56.000Z',
      timeZone: 'UTC',
      local: '2026-03-15 12:34:56',
    });
    expect(JSON.parse(await tool('current_time').run(null, now)).timeZone).toBe('UTC');
  });

  it('answers in an IANA time zone', async () => {
    const out = JSON.parse(await tool('current_time').run({ timeZone: 'Asia/Tokyo' }, now));
    expect(out).toMatchObject({ timeZone: 'Asia/Tokyo', local: '2026-03-15 21:34:56' });
  });

  it('refuses an unknown or non-string zone', async () => {
    await expect(tool('current_time').run({ timeZone: 'Mars/Olympus' }, now)).rejects.toThrow(ToolInputError);
    await expect(tool('current_time').run({ timeZone: 'Mars/Olympus' }, now)).rejects.toThrow('unknown time zone Mars/Olympus');
    await expect(tool('current_time').run({ timeZone: 3 }, now)).rejects.toThrow('timeZone must be a string');
  });
});

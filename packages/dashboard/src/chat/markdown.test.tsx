import { afterEach, describe, expect, it } from 'vitest';
import { render } from '../test-utils';
import { Markdown, safeHref } from './markdown';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
async function md(text: string) {
  const r = await render(<Markdown text={text} />);
  cleanups.push(r.unmount);
  return r.container;
}

describe('Markdown', () => {
  it('renders blocks and inline marks', async () => {
    const c = await md('# Title\n\nSome **bold** and `code`.\n\n1. one\n2. two\n\n> quoted\n\n```py\nprint("hi")  # greet\n```');
    expect(c.querySelector('.md-h1')?.textContent).toBe('Title');
    expect(c.querySelector('p:not(.md-heading) strong')?.textContent).toBe('bold');
    expect(c.querySelector('p:not(.md-heading) code')?.textContent).toBe('code');
    expect([...c.querySelectorAll('ol li')].map((li) => li.textContent)).toEqual(['one', 'two']);
    expect(c.querySelector('blockquote')?.textContent).toBe('quoted');
    expect(c.querySelector('pre code')?.textContent).toBe('print("hi")  # greet');
    expect(c.querySelector('.hl-s')?.textContent).toBe('"hi"');
    expect(c.querySelector('.hl-c')?.textContent).toBe('# greet');
  });

  it('keeps raw HTML as text: no element is made from it', async () => {
    const c = await md('<script>alert(1)</script>\n<b onmouseover="x()">hi</b> <iframe src="https://evil.example"></iframe>');
    expect(c.querySelectorAll('script, b, iframe')).toHaveLength(0);
    expect(c.textContent).toContain('<script>alert(1)</script>');
  });

  it('links only http(s) and mailto URLs', async () => {
    expect(safeHref('https://example.com/a')).toBe('https://example.com/a');
    expect(safeHref('mailto:a@example.com')).toBe('mailto:a@example.com');
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('JaVaScRiPt:alert(1)')).toBeNull();
    expect(safeHref('data:text/html,<script>')).toBeNull();
    expect(safeHref('/relative')).toBeNull();
    const c = await md('[a](javascript:alert(1)) [b](https://example.com)');
    expect([...c.querySelectorAll('a')].map((a) => a.getAttribute('href'))).toEqual(['https://example.com/']);
  });
});

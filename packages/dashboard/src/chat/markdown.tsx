import type { ReactNode } from 'react';
import { CopyButton } from './copy-button';
import { highlight } from './highlight';

/**
 * Markdown of a reply, rendered to React elements: paragraphs, headings, lists, quotes, rules,
 * fenced code (highlighted, with a copy button), inline code, emphasis and links. There is no
 * HTML path at all (nothing goes through innerHTML), so raw HTML in a reply, a <script> included,
 * shows as text and never runs; links keep only http(s) and mailto URLs.
 */
export function Markdown({ text }: { text: string }) {
  return <div className="md">{blocks(text)}</div>;
}

const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([\w+#.-]*)\s*$/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
const BULLET = /^\s{0,3}[-*+]\s+(.*)$/;
const ORDERED = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;

function blocks(text: string): ReactNode[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const out: ReactNode[] = [];
  let i = 0;
  const key = () => out.length;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '') {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1]!;
      const lang = fence[2] ?? '';
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i]!.trim().startsWith(marker)) body.push(lines[i++]!);
      i++;
      out.push(<CodeBlock key={key()} code={body.join('\n')} lang={lang} />);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      // A reply's headings are not the page's outline: bold lines, sized by level.
      out.push(
        <p key={key()} className={`md-heading md-h${heading[1]!.length}`}>
          <strong>{inline(heading[2]!)}</strong>
        </p>,
      );
      i++;
      continue;
    }
    if (RULE.test(line)) {
      out.push(<hr key={key()} />);
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      const body: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i]!)) body.push(QUOTE.exec(lines[i++]!)![1]!);
      out.push(<blockquote key={key()}>{blocks(body.join('\n'))}</blockquote>);
      continue;
    }
    if (BULLET.test(line) || ORDERED.test(line)) {
      const ordered = !BULLET.test(line);
      const pattern = ordered ? ORDERED : BULLET;
      const items: string[] = [];
      while (i < lines.length) {
        const m = pattern.exec(lines[i]!);
        if (m) items.push(ordered ? m[2]! : m[1]!);
        else if (lines[i]!.trim() !== '' && /^\s{2,}/.test(lines[i]!) && items.length) items[items.length - 1] += `\n${lines[i]!.trim()}`;
        else break;
        i++;
      }
      const children = items.map((item, n) => <li key={n}>{inline(item)}</li>);
      const start = ordered ? Number(ORDERED.exec(line)![1]) : 1;
      out.push(ordered ? <ol key={key()} start={start === 1 ? undefined : start}>{children}</ol> : <ul key={key()}>{children}</ul>);
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '' && !FENCE.test(lines[i]!) && !HEADING.test(lines[i]!) && !QUOTE.test(lines[i]!) && !BULLET.test(lines[i]!) && !ORDERED.test(lines[i]!) && !RULE.test(lines[i]!)) {
      para.push(lines[i++]!);
    }
    out.push(<p key={key()}>{inline(para.join('\n'))}</p>);
  }
  return out;
}

function CodeBlock({ code, lang }: { code: string; lang: string }) {
  return (
    <div className="md-code">
      <div className="md-code-bar">
        <span className="muted small">{lang || 'code'}</span>
        <CopyButton text={code} what={lang ? `${lang} code` : 'code'} />
      </div>
      <pre tabIndex={0}>
        <code>{highlight(code, lang)}</code>
      </pre>
    </div>
  );
}

const INLINE = new RegExp(
  [
    '(`+)([\\s\\S]*?[^`])\\1(?!`)', // 1, 2: code
    '\\[([^\\]\\n]+)\\]\\(([^)\\s]+)\\)', // 3, 4: link
    '\\*\\*([\\s\\S]+?)\\*\\*|__([\\s\\S]+?)__', // 5, 6: strong
    '\\*(?=\\S)([\\s\\S]*?\\S)\\*|\\b_(?=\\S)([\\s\\S]*?\\S)_\\b', // 7, 8: emphasis
    '(https?:\\/\\/[^\\s<>()]+[^\\s<>().,;:!?\'"])', // 9: bare URL
  ].join('|'),
  'g',
);

/** A URL a link may point at: http(s) and mailto only (no javascript:, data:, ...). */
export function safeHref(url: string): string | null {
  try {
    const parsed = new URL(url, 'https://invalid.example');
    if (parsed.origin === 'https://invalid.example') return null;
    return ['http:', 'https:', 'mailto:'].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

function link(href: string, label: ReactNode, k: number): ReactNode {
  const safe = safeHref(href);
  if (!safe) return <span key={k}>{label}</span>;
  return (
    <a key={k} href={safe} target="_blank" rel="noopener noreferrer nofollow">
      {label}
    </a>
  );
}

function inline(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  let k = 0;
  const lineBreaks = (s: string) => {
    const parts = s.split('\n');
    parts.forEach((p, n) => {
      if (n > 0) out.push(<br key={`br${k++}`} />);
      if (p) out.push(p);
    });
  };
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) lineBreaks(text.slice(last, m.index));
    if (m[2] !== undefined) out.push(<code key={k++}>{m[2].trim()}</code>);
    else if (m[3] !== undefined) out.push(link(m[4]!, inline(m[3]), k++));
    else if (m[5] !== undefined || m[6] !== undefined) out.push(<strong key={k++}>{inline((m[5] ?? m[6])!)}</strong>);
    else if (m[7] !== undefined || m[8] !== undefined) out.push(<em key={k++}>{inline((m[7] ?? m[8])!)}</em>);
    else if (m[9] !== undefined) out.push(link(m[9], m[9], k++));
    last = m.index + m[0].length;
  }
  if (last < text.length) lineBreaks(text.slice(last));
  return out;
}

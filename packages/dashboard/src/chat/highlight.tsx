import type { ReactNode } from 'react';

/**
 * A small syntax highlighter for code blocks in replies: comments, strings, numbers and the
 * keywords of common languages, as spans with classes. Enough to read code at a glance without
 * shipping a highlighting library; unknown languages get the generic rules.
 */
const KEYWORDS: Record<string, string[]> = {
  js: 'async await break case catch class const continue default delete do else export extends false finally for from function if import in instanceof let new null return static super switch this throw true try typeof undefined var void while yield interface type enum implements readonly as'.split(' '),
  py: 'and as assert async await break class continue def del elif else except False finally for from global if import in is lambda None nonlocal not or pass raise return True try while with yield self'.split(' '),
  sh: 'if then else elif fi for while do done case esac in function return export local echo exit set'.split(' '),
  go: 'break case chan const continue default defer else fallthrough for func go goto if import interface map package range return select struct switch type var nil true false'.split(' '),
  rust: 'as async await break const continue crate else enum extern false fn for if impl in let loop match mod move mut pub ref return self Self static struct super trait true type unsafe use where while'.split(' '),
  sql: 'select from where insert into values update set delete create table index join left right inner outer on group by order having limit and or not null as distinct'.split(' '),
};

const ALIASES: Record<string, string> = {
  javascript: 'js', typescript: 'js', ts: 'js', tsx: 'js', jsx: 'js', json: 'js', java: 'js', c: 'js', cpp: 'js', csharp: 'js',
  python: 'py', bash: 'sh', shell: 'sh', zsh: 'sh', console: 'sh', golang: 'go', rs: 'rust',
};

function family(lang: string): string | undefined {
  const l = lang.toLowerCase();
  return KEYWORDS[l] ? l : ALIASES[l];
}

export function highlight(code: string, lang: string): ReactNode[] {
  const fam = family(lang);
  const words = new Set(fam ? KEYWORDS[fam] : []);
  const hashComments = fam === 'py' || fam === 'sh';
  const sqlish = fam === 'sql';
  const rule = new RegExp(
    [
      hashComments ? '#[^\\n]*' : sqlish ? '--[^\\n]*' : '\\/\\/[^\\n]*|\\/\\*[\\s\\S]*?\\*\\/',
      '"(?:[^"\\\\\\n]|\\\\.)*"|\'(?:[^\'\\\\\\n]|\\\\.)*\'|`(?:[^`\\\\]|\\\\.)*`',
      '\\b\\d+(?:\\.\\d+)?\\b',
      '\\b[A-Za-z_][A-Za-z0-9_]*\\b',
    ].join('|'),
    'g',
  );
  const out: ReactNode[] = [];
  let last = 0;
  let n = 0;
  for (const m of code.matchAll(rule)) {
    const text = m[0];
    const at = m.index;
    let cls: string | null = null;
    if (/^(\/\/|\/\*|#|--)/.test(text)) cls = 'hl-c';
    else if (/^["'`]/.test(text)) cls = 'hl-s';
    else if (/^\d/.test(text)) cls = 'hl-n';
    else if (words.has(sqlish ? text.toLowerCase() : text)) cls = 'hl-k';
    if (!cls) continue;
    if (at > last) out.push(code.slice(last, at));
    out.push(
      <span key={n++} className={cls}>
        {text}
      </span>,
    );
    last = at + text.length;
  }
  if (last < code.length) out.push(code.slice(last));
  return out;
}

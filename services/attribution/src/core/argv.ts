// Reading command lines: basenames, option skipping and the first real command of a shell
// script string (`bash -c "set -euo pipefail; bwa mem ..."`). Pure string work, no I/O.

export function basename(path: string): string {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  const i = trimmed.lastIndexOf('/');
  return i < 0 ? trimmed : trimmed.slice(i + 1);
}

export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0) return '.';
  return i === 0 ? '/' : path.slice(0, i);
}

/** Joins a possibly relative path onto a cwd, resolving `.` and `..` (no file system access). */
export function resolvePath(cwd: string, path: string): string {
  const parts = (path.startsWith('/') ? path : `${cwd}/${path}`).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return `/${out.join('/')}`;
}

/** `*` and `?` globs over a whole name. */
export function globToRegExp(glob: string): RegExp {
  const re = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`);
}

/**
 * Splits a shell script into simple commands (words after quote removal), at `;`, `&&`, `||`,
 * `|`, `&`, newlines and parentheses. Enough to name what a `bash -c` string runs; not a shell:
 * expansions stay literal and here-documents are not understood.
 */
export function splitShellCommands(script: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  const endWord = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push(words);
    words = [];
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (c === '\\' && i + 1 < script.length) {
      const n = script[++i]!;
      if (n !== '\n') {
        word += n;
        inWord = true;
      }
    } else if (c === "'") {
      const end = script.indexOf("'", i + 1);
      word += script.slice(i + 1, end < 0 ? undefined : end);
      inWord = true;
      i = end < 0 ? script.length : end;
    } else if (c === '"') {
      let j = i + 1;
      while (j < script.length && script[j] !== '"') {
        if (script[j] === '\\' && j + 1 < script.length) j++;
        word += script[j];
        j++;
      }
      inWord = true;
      i = j;
    } else if (c === '#' && !inWord) {
      const end = script.indexOf('\n', i);
      i = end < 0 ? script.length : end - 1;
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else if (c === ';' || c === '\n' || c === '|' || c === '&' || c === '(' || c === ')') {
      // `2>&1`, `&>` and `>&2` are redirections, not separators.
      if (c === '&' && (script[i - 1] === '>' || script[i + 1] === '>')) {
        word += c;
        inWord = true;
        continue;
      }
      endCommand();
    } else {
      word += c;
      inWord = true;
    }
  }
  endCommand();
  return commands.map(stripRedirections).filter((c) => c.length > 0);
}

const REDIRECTION = /^[0-9]*(>>?|<<?|&>>?|>&|<&)/;

function stripRedirections(words: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const m = REDIRECTION.exec(w);
    if (m) {
      // `> file` takes the next word; `>file` and `2>&1` are whole.
      if (w.length === m[0].length && !w.endsWith('&')) i++;
      continue;
    }
    out.push(w);
  }
  return out;
}

/** Shell words that start a compound command or change the shell itself, never a program. */
const SHELL_KEYWORDS = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'do',
  'done',
  'while',
  'until',
  '!',
  '{',
  '}',
  'time',
  'coproc',
]);
const SHELL_BUILTINS = new Set([
  'set',
  'cd',
  'export',
  'trap',
  'source',
  '.',
  'local',
  'declare',
  'typeset',
  'readonly',
  'unset',
  'shopt',
  'umask',
  'ulimit',
  'alias',
  'eval',
  'return',
  'exit',
  'shift',
  'wait',
  'read',
  'echo',
  'printf',
  'true',
  'false',
  ':',
  'test',
  '[',
  '[[',
  'pushd',
  'popd',
  'builtin',
  'break',
  'continue',
  'let',
  'hash',
  'type',
]);

/** The simple commands of a script that run programs: keywords, assignments and builtins removed. */
export function programCommands(script: string): string[][] {
  const out: string[][] = [];
  for (const raw of splitShellCommands(script)) {
    let words = raw;
    while (words.length > 0 && SHELL_KEYWORDS.has(words[0]!)) words = words.slice(1);
    if (words[0] === 'for' || words[0] === 'case' || words[0] === 'function' || words[0] === 'select') continue;
    while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) words = words.slice(1);
    if (words[0] === 'exec' || words[0] === 'command' || words[0] === 'nohup') words = words.slice(1);
    if (words.length === 0 || SHELL_BUILTINS.has(words[0]!) || words[0]!.endsWith('()')) continue;
    out.push(words);
  }
  return out;
}

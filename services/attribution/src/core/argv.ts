// Reading command lines: basenames, option skipping and the first real command of a shell
// script string (`bash -c "set -euo pipefail; bwa mem ..."`). Pure string work, no I/O.

import { simpleCommands } from '@tracer/shell';

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
  for (const raw of simpleCommands(script)) {
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

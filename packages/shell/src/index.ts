// Splitting shell strings into simple commands and words. Pure string work, no I/O.

/**
 * Splits a shell string into simple commands (their words after quote removal) at `;`, `&&`,
 * `||`, `|`, `&`, newlines and parentheses. Comments are dropped; a command substitution
 * (`$(...)`, backticks) stays inside its word; redirections stay as words (dropRedirections).
 */
export function splitShellCommands(script: string): string[][] {
  return splitCommands(script).map((c) => c.words);
}

interface SplitCommand {
  words: string[];
  /** Its output goes into the next command (`|`, `|&`). */
  pipesInto: boolean;
}

function splitCommands(script: string): SplitCommand[] {
  const commands: SplitCommand[] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  const endWord = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = (pipesInto = false) => {
    endWord();
    if (words.length > 0) commands.push({ words, pipesInto });
    words = [];
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (c === "'") {
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
    } else if ((c === '$' && script[i + 1] === '(') || c === '`') {
      // `in $(seq 10)` is one word, not a command.
      const end = c === '`' ? script.indexOf('`', i + 1) : matchingParen(script, i + 1);
      const stop = end < 0 ? script.length - 1 : end;
      word += script.slice(i, stop + 1);
      inWord = true;
      i = stop;
    } else if (c === '\\' && i + 1 < script.length) {
      // A backslash-newline joins lines and is no word of its own.
      if (script[i + 1] !== '\n') {
        word += script[i + 1];
        inWord = true;
      }
      i++;
    } else if (c === '#' && !inWord) {
      const nl = script.indexOf('\n', i);
      i = nl < 0 ? script.length : nl - 1;
    } else if (c === ';' || c === '&' || c === '|' || c === '\n' || c === '(' || c === ')') {
      // `2>&1`, `&>` and `>|` stay inside a redirection word.
      if (((c === '&' || c === '|') && /[<>]$/.test(word)) || (c === '&' && script[i + 1] === '>')) {
        word += c;
        inWord = true;
        continue;
      }
      // `||` and `&&` are one separator; `|` and `|&` pipe.
      const doubled = (c === '|' || c === '&') && script[i + 1] === c;
      const pipe = c === '|' && !doubled;
      if (doubled || (pipe && script[i + 1] === '&')) i++;
      endCommand(pipe);
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else {
      word += c;
      inWord = true;
    }
  }
  endCommand();
  return commands;
}

/** A command's words without `> file`, `2>&1`, `<in`, `<<< word` and the like. */
export function dropRedirections(words: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const m = /^(?:[0-9]*|&)(?:>\||>&|<&|>>?|<<<|<<?)(.*)$/.exec(words[i]!);
    if (!m) out.push(words[i]!);
    else if (m[1] === '') i++; // the target is the next word
  }
  return out;
}

/** The simple commands of a script with their redirections dropped; empty ones left out. */
export function simpleCommands(script: string): string[][] {
  return splitShellCommands(script)
    .map(dropRedirections)
    .filter((words) => words.length > 0);
}

/**
 * The pipelines of a script (`a | b | c` is one of three commands; a command on its own is a
 * pipeline of one), each command's words without redirections.
 */
export function shellPipelines(script: string): string[][][] {
  const out: string[][][] = [];
  let current: string[][] = [];
  for (const c of splitCommands(script)) {
    const words = dropRedirections(c.words);
    if (words.length > 0) current.push(words);
    if (c.pipesInto) continue;
    if (current.length > 0) out.push(current);
    current = [];
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Program names of POSIX-style shells and their kin. */
export const SHELL_NAMES: ReadonlySet<string> = new Set([
  'sh',
  'bash',
  'dash',
  'zsh',
  'ksh',
  'mksh',
  'ash',
  'fish',
  'csh',
  'tcsh',
]);

/** What a shell's arguments (argv without argv[0]) run: a `-c` string, a script file, or neither (stdin). */
export type ShellInvocation = { script: string } | { file: string; args: string[] } | undefined;

/**
 * Reads a shell's options up to what it runs: `-c SCRIPT` (also combined, `-ec`, `-xc`), else
 * the first operand, a script file with its arguments. Options that take a value (`-o
 * pipefail`, `-euo pipefail`, `-O extglob`, `--rcfile FILE`) skip it.
 */
export function shellInvocation(args: readonly string[]): ShellInvocation {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (/^-[a-zA-Z]*c[a-zA-Z]*$/.test(a)) {
      const script = args[i + 1];
      return script === undefined ? undefined : { script };
    }
    if (/^[-+][a-zA-Z]*[oO]$/.test(a) || a === '--rcfile' || a === '--init-file') i++;
    else if (!a.startsWith('-') && !a.startsWith('+')) return { file: a, args: args.slice(i + 1) };
  }
  return undefined;
}

/** Every word of a shell string, whatever command it belongs to. */
export function shellWords(text: string): string[] {
  return splitShellCommands(text.replace(/[;&|()\n]/g, ' ')).flat();
}

function matchingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

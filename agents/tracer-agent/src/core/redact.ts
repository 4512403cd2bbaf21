// Secrets redaction on everything that carries user text: captured output and argv (DESIGN.md
// section 4: never collected: secrets). Each secret becomes a fixed marker naming its kind,
// `[REDACTED:aws-secret-key]`, so a reader knows something was there and what it was.
//
// A secret split across two log chunks is only caught when the chunk boundary leaves its
// keyword and value together; sources cut chunks at line ends where they can.

export const REDACTION_PREFIX = '[REDACTED:';
export const redactionMarker = (kind: string) => `${REDACTION_PREFIX}${kind}]`;

export type RedactionKind =
  | 'private-key'
  | 'url-password'
  | 'authorization'
  | 'aws-access-key'
  | 'aws-secret-key'
  | 'token'
  | 'password'
  | 'secret';

export interface Redacted {
  text: string;
  /** Kind of each secret removed, in order (empty when nothing was). */
  kinds: RedactionKind[];
}

type Rule = { kind: RedactionKind; pattern: RegExp; replace: (kind: RedactionKind, ...groups: string[]) => string };

const whole: Rule['replace'] = (kind) => redactionMarker(kind);
/** Keeps every group but the last, which is the secret itself. */
const keepPrefix: Rule['replace'] = (kind, ...groups) => `${groups.slice(0, -1).join('')}${redactionMarker(kind)}`;

const SENSITIVE_KEY =
  '[A-Za-z0-9_.-]*(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?)[A-Za-z0-9_.-]*';

// Order matters: specific shapes first, so the generic key=value rule sees their markers.
const RULES: Rule[] = [
  {
    kind: 'private-key',
    // A block cut at the chunk end is redacted to the end of the text.
    pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
    replace: whole,
  },
  {
    kind: 'url-password',
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/?#]*:)([^\s@/?#]+)(?=@)/gi,
    replace: keepPrefix,
  },
  {
    kind: 'authorization',
    pattern:
      /\b((?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token|digest|negotiate)\s+)?)([^\s"',;]+)/gi,
    replace: keepPrefix,
  },
  { kind: 'authorization', pattern: /\b(bearer\s+)([A-Za-z0-9\-._~+/]{8,}=*)/gi, replace: keepPrefix },
  {
    kind: 'aws-access-key',
    pattern: /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}\b/g,
    replace: whole,
  },
  {
    kind: 'aws-secret-key',
    pattern:
      /\b((?:aws_?)?secret_?access_?key["']?\s*[:=]\s*["']?|aws_?secret["']?\s*[:=]\s*["']?)([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
    replace: keepPrefix,
  },
  {
    kind: 'token',
    pattern:
      /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}|xox[abprse]-[A-Za-z0-9-]{10,}|sk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}|sk_live_[A-Za-z0-9]{20,}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36}|hf_[A-Za-z0-9]{30,}|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})/g,
    replace: whole,
  },
  {
    kind: 'aws-secret-key',
    // A bare 40-character key: mixed case and digits, standing alone. Hex digests (git, sha1)
    // are single-case and do not match.
    pattern:
      /(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
    replace: whole,
  },
  {
    kind: 'password',
    // key=value, key: value, "key": "value", --password=value; the value up to a delimiter.
    // Short plain numbers are counts (`tokens: 12`, `max_tokens=128`), not secrets.
    pattern: new RegExp(
      String.raw`(${SENSITIVE_KEY}["']?\s*[:=]\s*["']?)(?!\[REDACTED:)(?![0-9]{1,10}(?:[\s"'&,;]|$))([^\s"'&,;]+)`,
      'gi',
    ),
    replace: (kind, prefix = '') => `${prefix}${redactionMarker(kindOfKey(prefix, kind))}`,
  },
];

function kindOfKey(prefix: string, fallback: RedactionKind): RedactionKind {
  const key = prefix.toLowerCase();
  if (/pass|pwd/.test(key)) return 'password';
  if (/token/.test(key)) return 'token';
  return fallback === 'password' ? 'secret' : fallback;
}

export function redactText(text: string): Redacted {
  const kinds: RedactionKind[] = [];
  let out = text;
  for (const rule of RULES) {
    rule.pattern.lastIndex = 0;
    out = out.replace(rule.pattern, (...args: unknown[]) => {
      // replace() passes (match, ...groups, offset, input[, namedGroups]).
      const groups = args.slice(
        1,
        args.findIndex((a, i) => i > 0 && typeof a === 'number'),
      ) as string[];
      const replaced = rule.replace(rule.kind, ...groups);
      const kind = /\[REDACTED:([a-z-]+)\]$/.exec(replaced)?.[1] as RedactionKind | undefined;
      kinds.push(kind ?? rule.kind);
      return replaced;
    });
  }
  return { text: out, kinds };
}

/** Flags whose next argument is a secret (`--password hunter2`, `--token abc`). */
const SECRET_FLAG =
  /^--?(?:password|passwd|passphrase|pass|pwd|token|auth-token|secret|client-secret|api-key|apikey|access-key|secret-key|private-key|credentials?)$/i;

export function redactArgv(argv: readonly string[]): { argv: string[]; kinds: RedactionKind[] } {
  const kinds: RedactionKind[] = [];
  const out = argv.map((arg, i) => {
    const prev = argv[i - 1];
    if (i > 0 && prev !== undefined && SECRET_FLAG.test(prev) && !arg.startsWith('-')) {
      const kind = kindOfKey(prev, 'password');
      kinds.push(kind);
      return redactionMarker(kind);
    }
    const r = redactText(arg);
    kinds.push(...r.kinds);
    return r.text;
  });
  return { argv: out, kinds };
}

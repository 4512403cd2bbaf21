// The LLM step's pure half: the prompt (only the evidence packet, redacted, bounded in
// tokens), the JSON schema of the answer, and how an answer is checked against the evidence
// before it replaces the deterministic one. The adapter (adapters/llm.ts) only sends and caches.
import { type RootCauseCategory, rootCauseCategories } from '@tracer/events';
import type { RootCause } from './classify.ts';
import type { EvidencePacket } from './evidence.ts';

/** Bump when the prompt or schema changes: cached answers and insights record it. */
export const PROMPT_VERSION = 'rootcause-v1';

export interface LlmAnswer {
  criticalIssue: string;
  category: RootCauseCategory;
  confidence: number;
  rootCauses: Array<{ cause: string; likelihood: number; evidence: string[] }>;
  nextSteps: string[];
  errorEntries: Array<{ pid: number; stream: 'stdout' | 'stderr'; line: number; text: string }>;
}

/** Strict structured-output schema (every property required, nothing else allowed). */
export const rootCauseJsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['criticalIssue', 'category', 'confidence', 'rootCauses', 'nextSteps', 'errorEntries'],
  properties: {
    criticalIssue: { type: 'string', description: 'One sentence: what went wrong.' },
    category: { type: 'string', enum: [...rootCauseCategories] },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
    rootCauses: {
      type: 'array',
      description: 'Most likely first; each cites evidence from the packet.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['cause', 'likelihood', 'evidence'],
        properties: {
          cause: { type: 'string' },
          likelihood: { type: 'number', minimum: 0, maximum: 1 },
          evidence: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    nextSteps: { type: 'array', items: { type: 'string' } },
    errorEntries: {
      type: 'array',
      description: 'Log lines from the packet that show the failure, with their pid, stream and line number.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['pid', 'stream', 'line', 'text'],
        properties: {
          pid: { type: 'integer' },
          stream: { type: 'string', enum: ['stdout', 'stderr'] },
          line: { type: 'integer' },
          text: { type: 'string' },
        },
      },
    },
  },
} as const;

const secretPatterns: Array<[RegExp, string]> = [
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, '[REDACTED_AWS_KEY]'],
  [/\b(?:ghp|gho|ghs|ghu|github_pat)_[A-Za-z0-9_]{20,}\b/g, '[REDACTED_TOKEN]'],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g, '[REDACTED_TOKEN]'],
  [/\bsk-[A-Za-z0-9_-]{20,}\b/g, '[REDACTED_TOKEN]'],
  [/\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/g, '[REDACTED_JWT]'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[REDACTED_PRIVATE_KEY]'],
  [/\b(Bearer|Basic|token)\s+[A-Za-z0-9._~+/=-]{12,}/gi, '$1 [REDACTED]'],
  [/([a-z][a-z0-9+.-]*:\/\/)[^\s/:@]+:[^\s/@]+@/gi, '$1[REDACTED]@'],
  [
    /\b([A-Za-z0-9_]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|credential)[A-Za-z0-9_]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi,
    '$1$2[REDACTED]',
  ],
  [/(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|sig)=[^&\s]+/g, '$1=[REDACTED]'],
  [/\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g, '[REDACTED_EMAIL]'],
];

/** Removes what looks like a secret or personal data; agent-side redaction happened already, this is the second line. */
export function redactText(text: string): string {
  let out = text;
  for (const [re, sub] of secretPatterns) out = out.replace(re, sub);
  return out;
}

function redactDeep<T>(v: T): T {
  if (typeof v === 'string') return redactText(v) as T;
  if (Array.isArray(v)) return v.map(redactDeep) as T;
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactDeep(x)])) as T;
  }
  return v;
}

/** About four characters per token for English and log text: enough to stay under a budget. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The packet, redacted and cut down until its JSON fits the token budget. */
export function boundPacket(packet: EvidencePacket, maxTokens: number): EvidencePacket {
  const p = redactDeep(structuredClone(packet));
  const fits = () => estimateTokens(JSON.stringify(p)) <= maxTokens;
  for (const l of [...p.errorLines, ...p.logTail]) if (l.text.length > 400) l.text = `${l.text.slice(0, 400)}...`;
  while (!fits() && p.logTail.length > 3) p.logTail.shift();
  while (!fits() && p.errorLines.length > 5) {
    // Drop the least telling line: warnings first, then lines of other processes, then the oldest.
    const i = p.errorLines.findIndex((l) => l.level !== 'error');
    const j = i >= 0 ? i : p.errorLines.findIndex((l) => l.own === false);
    p.errorLines.splice(Math.max(j, 0), 1);
  }
  while (!fits() && p.syscallErrors.length > 3) p.syscallErrors.pop();
  while (!fits() && p.failedOpens.length > 3) p.failedOpens.pop();
  if (!fits()) p.process.argv = p.process.argv.slice(0, 4);
  for (const l of [...p.errorLines, ...p.logTail])
    if (!fits() && l.text.length > 160) l.text = `${l.text.slice(0, 160)}...`;
  return p;
}

const systemPrompt = `You diagnose failed tasks of scientific pipelines (bioinformatics tools, Nextflow, Snakemake, Slurm, AWS Batch).
You get one JSON evidence packet recorded from the Linux kernel and the task's captured output: the process, its exit status or signal, any OOM kill, error lines with line numbers, the last output lines, resource use, host pressure and failed system calls.
Answer only from that evidence. Cite it (a line number, an exit status, a failed call) for every cause. Pick the category from the schema's list; use "unknown" when the evidence does not show a cause.
Copy error entries exactly from the packet (pid, stream, line, text). Next steps must be concrete commands or settings for this tool.
A deterministic classifier's answer is included as a hint; overrule it only when the evidence says otherwise.`;

export function buildPrompt(
  packet: EvidencePacket,
  hint: RootCause,
  maxTokens = 6000,
): { system: string; user: string; packet: EvidencePacket } {
  const bounded = boundPacket(packet, Math.max(500, maxTokens - 600));
  const user = JSON.stringify({
    evidence: bounded,
    classifierHint: {
      category: hint.category,
      confidence: hint.confidence,
      criticalIssue: redactText(hint.criticalIssue),
    },
  });
  return { system: systemPrompt, user, packet: bounded };
}

/**
 * Checks an answer and turns it into a RootCause: an invalid category falls back to the
 * classifier's, and error entries that are not in the packet (invented) are dropped.
 */
export function acceptAnswer(raw: unknown, packet: EvidencePacket, fallback: RootCause, model: string): RootCause {
  const a = raw as Partial<LlmAnswer>;
  if (!a || typeof a !== 'object' || typeof a.criticalIssue !== 'string')
    throw new Error('answer does not follow the schema');
  const category = (rootCauseCategories as readonly string[]).includes(a.category ?? '')
    ? (a.category as RootCauseCategory)
    : fallback.category;
  const known = new Map<string, string>();
  for (const l of [...packet.errorLines, ...packet.logTail]) known.set(`${l.pid}:${l.stream}:${l.line}`, l.text);
  const entries = (a.errorEntries ?? [])
    .filter((e) => e && known.has(`${e.pid}:${e.stream}:${e.line}`))
    .map((e) => ({ pid: e.pid, stream: e.stream, line: e.line, text: known.get(`${e.pid}:${e.stream}:${e.line}`)! }));
  const conf =
    typeof a.confidence === 'number' && a.confidence >= 0 && a.confidence <= 1 ? a.confidence : fallback.confidence;
  return {
    category,
    confidence: conf,
    criticalIssue: a.criticalIssue,
    causes: (a.rootCauses ?? []).slice(0, 5).map((c) => ({
      cause: String(c.cause),
      confidence: Number(c.likelihood) || 0,
      evidence: (c.evidence ?? []).map(String).slice(0, 8),
    })),
    nextSteps: (a.nextSteps ?? []).map(String).slice(0, 10),
    errorEntries: entries.length ? entries : fallback.errorEntries,
    source: 'llm',
    model,
    promptVersion: PROMPT_VERSION,
    evidenceHash: fallback.evidenceHash,
  };
}

// The LLM adapter: sends the prompt the core built to any OpenAI-compatible endpoint, asks for
// a JSON-schema answer, caches answers by evidence hash (memory, and a directory when given),
// and falls back to the deterministic answer on timeout, error or a malformed answer. The
// result says which model and prompt version wrote it.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { RootCause } from '../core/classify.ts';
import type { EvidencePacket } from '../core/evidence.ts';
import { acceptAnswer, buildPrompt, PROMPT_VERSION, rootCauseJsonSchema } from '../core/prompt.ts';

export interface LlmConfig {
  baseURL: string;
  model: string;
  apiKey: string;
  /** Whole-request budget; past it the deterministic answer stands. */
  timeoutMs: number;
  maxPromptTokens: number;
  maxAnswerTokens: number;
  /** Answers kept on disk by evidence hash (optional). */
  cacheDir?: string;
}

/**
 * TRACER_LLM_BASE_URL, TRACER_LLM_MODEL, TRACER_LLM_API_KEY (and optional
 * TRACER_LLM_TIMEOUT_MS, TRACER_LLM_MAX_PROMPT_TOKENS, TRACER_LLM_CACHE_DIR). No base URL or
 * model: no LLM, and the deterministic answer stands. A bad number stops here, naming the key.
 */
export function llmConfigFromEnv(env: Record<string, string | undefined> = process.env): LlmConfig | undefined {
  const baseURL = env.TRACER_LLM_BASE_URL;
  const model = env.TRACER_LLM_MODEL;
  if (!baseURL || !model) return undefined;
  const num = (key: string, dflt: number) => {
    const v = env[key];
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${key} must be a positive number, got ${JSON.stringify(v)}`);
    return n;
  };
  return {
    baseURL,
    model,
    // Local OpenAI-compatible servers (vLLM, llama.cpp, Ollama) accept any key.
    apiKey: env.TRACER_LLM_API_KEY || 'none',
    timeoutMs: num('TRACER_LLM_TIMEOUT_MS', 30_000),
    maxPromptTokens: num('TRACER_LLM_MAX_PROMPT_TOKENS', 6000),
    maxAnswerTokens: num('TRACER_LLM_MAX_ANSWER_TOKENS', 1500),
    ...(env.TRACER_LLM_CACHE_DIR ? { cacheDir: env.TRACER_LLM_CACHE_DIR } : {}),
  };
}

export interface ExplainResult {
  rootCause: RootCause;
  /** How the answer came: a fresh call, the cache, or the fallback (with why). */
  via: 'llm' | 'cache' | 'fallback';
  error?: string;
}

export interface LlmExplainer {
  explain(packet: EvidencePacket, deterministic: RootCause): Promise<ExplainResult>;
  stats(): { calls: number; cacheHits: number; fallbacks: number };
}

export function createLlmExplainer(config: LlmConfig): LlmExplainer {
  // Retries would multiply the timeout; one attempt, then the deterministic answer.
  const client = new OpenAI({
    baseURL: config.baseURL,
    apiKey: config.apiKey,
    timeout: config.timeoutMs,
    maxRetries: 0,
  });
  const memory = new Map<string, RootCause>();
  const counts = { calls: 0, cacheHits: 0, fallbacks: 0 };
  const cacheKey = (hash: string) => `${config.model}:${PROMPT_VERSION}:${hash}`;
  const cacheFile = (key: string) => join(config.cacheDir!, `${key.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);

  async function cached(key: string): Promise<RootCause | undefined> {
    const hit = memory.get(key);
    if (hit || !config.cacheDir) return hit;
    try {
      const rc = JSON.parse(await readFile(cacheFile(key), 'utf8')) as RootCause;
      memory.set(key, rc);
      return rc;
    } catch {
      return undefined;
    }
  }

  async function store(key: string, rc: RootCause): Promise<void> {
    memory.set(key, rc);
    if (!config.cacheDir) return;
    await mkdir(config.cacheDir, { recursive: true });
    const tmp = `${cacheFile(key)}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(rc));
    await rename(tmp, cacheFile(key));
  }

  return {
    stats: () => ({ ...counts }),
    async explain(packet, deterministic) {
      const key = cacheKey(deterministic.evidenceHash);
      const hit = await cached(key);
      if (hit) {
        counts.cacheHits++;
        return { rootCause: hit, via: 'cache' };
      }
      const prompt = buildPrompt(packet, deterministic, config.maxPromptTokens);
      counts.calls++;
      try {
        const res = await client.chat.completions.create(
          {
            model: config.model,
            temperature: 0,
            max_tokens: config.maxAnswerTokens,
            messages: [
              { role: 'system', content: prompt.system },
              { role: 'user', content: prompt.user },
            ],
            response_format: {
              type: 'json_schema',
              json_schema: {
                name: 'root_cause',
                strict: true,
                schema: rootCauseJsonSchema as unknown as Record<string, unknown>,
              },
            },
          },
          { timeout: config.timeoutMs, signal: AbortSignal.timeout(config.timeoutMs) },
        );
        const content = res.choices[0]?.message?.content;
        if (!content) throw new Error('empty answer');
        const rc = acceptAnswer(JSON.parse(content), prompt.packet, deterministic, res.model || config.model);
        await store(key, rc);
        return { rootCause: rc, via: 'llm' };
      } catch (err) {
        counts.fallbacks++;
        return { rootCause: deterministic, via: 'fallback', error: (err as Error).message };
      }
    },
  };
}

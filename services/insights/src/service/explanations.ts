// LLM explanations off the commit path: failure insights are offered after their commit, a
// single worker asks the model (cached by evidence hash, deterministic fallback inside the
// adapter), and an answer is written to the row's `explanation` and re-published on
// insights.v1 with the model's next steps, model and prompt version. The queue is bounded:
// under a flood the oldest offers are dropped (the deterministic answer stands for them).
import type { Producer } from '@tracer/bus';
import { type Pool, withTenant } from '@tracer/db';
import { hostKey, type Insight, type InsightMessage } from '@tracer/events';
import type { Logger } from '@tracer/log';
import { saveExplanation } from '../adapters/insights-store.ts';
import type { LlmExplainer } from '../adapters/llm.ts';
import type { RootCause } from '../core/classify.ts';
import type { EvidencePacket } from '../core/evidence.ts';
import type { InsightsMetrics } from './metrics.ts';

export interface ExplainOffer {
  tenant: string;
  host: string;
  insight: Insight;
  packet: EvidencePacket;
  rootCause: RootCause;
}

export interface ExplanationQueue {
  offer(job: ExplainOffer): void;
  /** Resolves when nothing is queued or running (tests). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const MAX_REMEMBERED = 10_000;

export function createExplanationQueue(options: {
  explainer: LlmExplainer;
  pool: Pool;
  role: string | null;
  producer: Producer;
  topic: string;
  log: Logger;
  metrics?: InsightsMetrics;
  maxQueued?: number;
}): ExplanationQueue {
  const { explainer, log, metrics } = options;
  const maxQueued = options.maxQueued ?? 100;
  const queue: ExplainOffer[] = [];
  /** Evidence hash last explained per tenant/host/insight: an unchanged failure is not asked twice. */
  const explained = new Map<string, string>();
  const keyOf = (job: ExplainOffer) => `${job.tenant}/${job.host}/${job.insight.id}`;
  let running: Promise<void> | undefined;
  let stopped = false;

  async function explain(job: ExplainOffer): Promise<void> {
    const answer = await explainer.explain(job.packet, job.rootCause);
    metrics?.llm.inc({ outcome: answer.via });
    explained.set(keyOf(job), job.rootCause.evidenceHash);
    if (explained.size > MAX_REMEMBERED) explained.delete(explained.keys().next().value!);
    if (answer.via === 'fallback') {
      log.warn(
        { insight: job.insight.id, error: answer.error },
        'LLM explanation failed; the deterministic answer stands',
      );
      return;
    }
    const rc = answer.rootCause;
    await withTenant(
      options.pool,
      job.tenant,
      async (client) => {
        // The evidence moved on since the offer: a newer offer explains the newer evidence.
        if (!(await saveExplanation(client, job.host, job.insight.id, rc))) return;
        const message: InsightMessage = {
          tenant: job.tenant,
          host: job.host,
          ...job.insight,
          nextSteps: rc.nextSteps.slice(0, 20).map((s) => s.slice(0, 1024)),
          ...(rc.model ? { model: rc.model } : {}),
          ...(rc.promptVersion ? { promptVersion: rc.promptVersion } : {}),
        };
        await options.producer.send(options.topic, [
          { key: hostKey(job.tenant, job.host), value: JSON.stringify(message) },
        ]);
        metrics?.published.inc({ kind: job.insight.kind, source: 'llm' });
      },
      { role: options.role },
    );
  }

  function pump(): void {
    if (running || stopped) return;
    running = (async () => {
      for (let job = queue.shift(); job && !stopped; job = queue.shift()) {
        try {
          await explain(job);
        } catch (err) {
          log.warn({ err, insight: job.insight.id }, 'could not store an LLM explanation');
        }
      }
    })().finally(() => {
      running = undefined;
      if (queue.length) pump();
    });
  }

  return {
    offer(job) {
      if (stopped || explained.get(keyOf(job)) === job.rootCause.evidenceHash) return;
      const i = queue.findIndex((q) => keyOf(q) === keyOf(job));
      if (i >= 0) queue.splice(i, 1);
      else if (queue.length >= maxQueued) {
        queue.shift();
        metrics?.llm.inc({ outcome: 'dropped' });
      }
      queue.push(job);
      pump();
    },
    async idle() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      queue.length = 0;
      await running;
    },
  };
}

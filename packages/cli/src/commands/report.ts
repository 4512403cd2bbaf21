import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createLlmExplainer, llmConfigFromEnv } from '@tracer/insights';
import { describeCategory, type InsightsConfig, prepareReports, renderReport } from '@tracer/insights/core';
import { type Command, InvalidArgumentError } from 'commander';
import { readTraceEvents } from '../run-analysis.ts';
import { resolveTrace } from './trace-file.ts';

interface ReportOptions {
  task?: number;
  all?: boolean;
  out: string;
  config?: string;
  llm: boolean;
}

const pidArg = (raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a process id');
  return n;
};

function slug(s: string): string {
  return (
    s
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'task'
  );
}

/** `tracer report [TRACE]`: the failure report of a task, as Markdown and HTML. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description(
      'write the failure report of a traced task (root cause, next steps, error lines, marked log) as Markdown and HTML',
    )
    .argument('[trace]', 'trace file, or a name from `tracer trace list` (default: the most recent)')
    .option('--task <pid>', 'the process to report on (default: the first failure)', pidArg)
    .option('--all', 'one report per failure in the trace')
    .option('--out <dir>', 'folder to write the reports to', '.')
    .option(
      '--config <file>',
      'JSON: { "config": detector settings per pipeline/step, "history": { step: [durations in ns] } }',
    )
    .option('--no-llm', 'deterministic root cause only, even when an LLM is configured')
    .addHelpText(
      'after',
      `
Environment (optional LLM explanation; without it the deterministic root cause stands):
  TRACER_LLM_BASE_URL   any OpenAI-compatible endpoint, e.g. https://api.openai.com/v1
  TRACER_LLM_MODEL      model name
  TRACER_LLM_API_KEY    key for that endpoint
  TRACER_LLM_CACHE_DIR  answers cached by evidence hash (default ~/.cache/tracer/llm)

Examples:
  tracer run --out run.jsonl -- bash pipeline.sh; tracer report run.jsonl
  tracer report --all --out reports/`,
    )
    .action(async (file: string | undefined, opts: ReportOptions) => {
      try {
        const path = resolveTrace(file);
        const { events, bad } = await readTraceEvents(path);
        if (bad > 0) process.stderr.write(`tracer report: ${bad} invalid lines in ${path} skipped\n`);
        const extra = opts.config
          ? (JSON.parse(readFileSync(opts.config, 'utf8')) as {
              config?: InsightsConfig;
              history?: Record<string, number[]>;
            })
          : {};
        const { reports, insights } = prepareReports(
          events,
          { ...(opts.task !== undefined ? { pid: opts.task } : {}), ...(opts.all ? { all: true } : {}) },
          { ...(extra.config ? { config: extra.config } : {}), ...(extra.history ? { history: extra.history } : {}) },
        );
        if (reports.length === 0) {
          const what = opts.task !== undefined ? `no insight about pid ${opts.task}` : 'no failure';
          process.stdout.write(`${path}: ${what} to report (${insights.length} insight(s) in all).\n`);
          if (opts.task !== undefined) process.exitCode = 1;
          return;
        }
        const env = {
          ...process.env,
          TRACER_LLM_CACHE_DIR:
            process.env.TRACER_LLM_CACHE_DIR ??
            join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tracer', 'llm'),
        };
        const llmConfig = opts.llm ? llmConfigFromEnv(env) : undefined;
        const llm = llmConfig ? createLlmExplainer(llmConfig) : undefined;
        mkdirSync(opts.out, { recursive: true });
        for (const r of reports) {
          let rootCause = r.rootCause;
          if (llm) {
            const answer = await llm.explain(r.packet, r.rootCause);
            if (answer.via === 'fallback')
              process.stderr.write(`tracer report: LLM unavailable (${answer.error}); deterministic root cause used\n`);
            rootCause = answer.rootCause;
          }
          const { markdown, html } = renderReport({
            ...r,
            rootCause,
            tracePath: path,
            generatedAt: new Date().toISOString(),
          });
          const stem = join(opts.out, `tracer-report-${slug(r.packet.process.tool)}-${r.packet.process.pid}`);
          writeFileSync(`${stem}.md`, markdown);
          writeFileSync(`${stem}.html`, html);
          process.stdout.write(
            `${r.packet.process.tool} (pid ${r.packet.process.pid}): ${describeCategory(rootCause.category)} [${rootCause.category}, ${rootCause.confidence.toFixed(2)}${rootCause.source === 'llm' ? `, ${rootCause.model}` : ''}]\n  ${stem}.md\n  ${stem}.html\n`,
          );
        }
      } catch (err) {
        process.stderr.write(`tracer report: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}

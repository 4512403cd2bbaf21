// The insights block of `tracer run`'s closing summary: one line per insight, and for a
// failure its root cause, the log lines to read and the first next step.
import type { Insight } from '@tracer/events';

const order = { error: 0, warning: 1, info: 2 } as const;

export function renderInsightsSummary(insights: readonly Insight[], o: { maxLines?: number } = {}): string {
  if (insights.length === 0) return 'Insights: none';
  const sorted = [...insights].sort((a, b) => order[a.severity] - order[b.severity] || a.startTs - b.startTs);
  const shown = sorted.slice(0, o.maxLines ?? 20);
  const kindWidth = Math.max(...shown.map((i) => i.kind.length));
  const out = [`Insights (${insights.length})`];
  for (const i of shown) {
    const state = i.state === 'resolved' ? ' (resolved)' : '';
    out.push(`  ${i.severity.padEnd(7)}  ${i.kind.padEnd(kindWidth)}  ${i.summary}${state}`);
    const details: string[] = [];
    if (i.category)
      details.push(`cause: ${i.category}${i.confidence !== undefined ? ` (${i.confidence.toFixed(2)})` : ''}`);
    if (i.errorLines.length) {
      const stream = i.errorEntries?.find((e) => e.pid === undefined)?.stream ?? 'output';
      details.push(
        `${stream} line${i.errorLines.length > 1 ? 's' : ''} ${i.errorLines.slice(0, 8).join(', ')}${i.errorLines.length > 8 ? ', ...' : ''}`,
      );
    }
    if (i.nextSteps?.[0]) details.push(`next: ${i.nextSteps[0]}`);
    if (details.length) out.push(`  ${' '.repeat(7 + 2 + kindWidth + 2)}${details.join(' · ')}`);
  }
  if (sorted.length > shown.length) out.push(`  ... ${sorted.length - shown.length} more (tracer report --all)`);
  return out.join('\n');
}

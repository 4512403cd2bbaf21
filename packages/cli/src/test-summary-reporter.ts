// A node:test reporter that runs beside `spec` and writes only the run's final counts, as
// one JSON line, for `tracer test` to turn into its closing `N passed, N failed` line.
// Timed-out and cancelled tests count as failed; a file that cannot even load counts as one.

interface SummaryEvent {
  type: string;
  data: { file?: string; counts?: Record<string, number> };
}

export default async function* summaryReporter(source: AsyncIterable<SummaryEvent>): AsyncGenerator<string> {
  for await (const event of source) {
    // Each file gets a test:summary; the run's own one has no file.
    if (event.type === 'test:summary' && event.data.file === undefined && event.data.counts) {
      const c = event.data.counts;
      const counts = {
        passed: c.passed ?? 0,
        failed: (c.failed ?? 0) + (c.cancelled ?? 0),
        skipped: (c.skipped ?? 0) + (c.todo ?? 0),
      };
      yield `${JSON.stringify(counts)}\n`;
    }
  }
}

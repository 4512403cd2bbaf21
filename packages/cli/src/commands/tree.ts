// `tracer trace tree [FILE] [--json]`: the run > step > task > tool tree of a trace, with
// resources, from the attribution core (the same one services/attribution runs).
import { attributeTrace } from '@tracer/attribution';
import { renderTree } from '@tracer/attribution/core';
import { readTrace } from '@tracer/tracer-agent';
import type { Command } from 'commander';
import { resolveTrace } from './trace-file.ts';

/** Adds `tree` under the `trace` command. */
export function registerTraceTree(trace: Command): void {
  trace
    .command('tree')
    .description('print the run > step > task > tool tree of a trace, with wall time, CPU, peak memory and I/O')
    .argument('[file]', 'trace file, or a name from `tracer trace list` (default: the most recent)')
    .option('--json', 'print the tree as JSON: {"runs":[{"pipeline","name","engine","status","steps":[...]}]}')
    .option('--no-files', 'do not read work dirs, Snakefiles and engine logs named by the trace')
    .addHelpText(
      'after',
      `
Engines are recognised from the processes themselves: Nextflow (.command.run tasks),
Snakemake (rules and jobs), cwltool and toil, Argo and AWS Batch (container ids and
allowlisted ids), else the traced command is the run and each command it starts a step.
Names read from disk (the .command.run header, the Snakefile, .snakemake/log) are used when
the files are still there; --no-files keeps to what the trace holds.`,
    )
    .action(async (file: string | undefined, opts: { json?: boolean; files: boolean }) => {
      try {
        const path = resolveTrace(file);
        let bad = 0;
        async function* values() {
          for await (const line of readTrace(path)) {
            if ('error' in line) {
              bad++;
              continue;
            }
            yield line.value;
          }
        }
        const { tree, rejected } = await attributeTrace(values(), { readFiles: opts.files });
        const skipped = bad + rejected.length;
        if (skipped > 0) {
          const first = rejected[0] ? ` (first: line ${rejected[0].line}: ${rejected[0].reason})` : '';
          process.stderr.write(`tracer trace tree: ${skipped} lines of ${path} skipped${first}\n`);
        }
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(tree, null, 2)}\n`);
          return;
        }
        if (tree.runs.length === 0) {
          process.stdout.write(`No run in ${path}: no process of the trace was recognised.\n`);
          return;
        }
        process.stdout.write(`${renderTree(tree)}\n`);
      } catch (err) {
        process.stderr.write(`tracer trace tree: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}

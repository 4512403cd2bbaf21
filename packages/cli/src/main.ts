// The tracer command line. Each command lives in commands/<name>.ts and registers itself here.
import { Command } from 'commander';
import { registerAgentCommands } from './commands/agent.ts';
import { registerKeysCommands } from './commands/keys.ts';
import { registerReportCommand } from './commands/report.ts';
import { registerRunCommand } from './commands/run.ts';
import { registerStackCommands } from './commands/stack.ts';
import { registerTestCommand } from './commands/test.ts';
import { registerTraceCommands } from './commands/trace.ts';

const program = new Command('tracer')
  .description('Observe pipelines from the Linux kernel: what ran, why it failed or slowed, what it cost.')
  .showHelpAfterError('(run with --help for usage)');

registerStackCommands(program);
registerTestCommand(program);
registerRunCommand(program);
registerTraceCommands(program);
registerReportCommand(program);
registerAgentCommands(program);
registerKeysCommands(program);

// `tracer status | head`: a reader that went away ends the command quietly, like any Unix tool.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

await program.parseAsync(process.argv);

import type { Command } from 'commander';

/** `tracer up`, `tracer down`, `tracer status`: the local platform. */
export function registerStackCommands(program: Command): void {
  program.command('up').description('install what is missing and start the platform on this machine').action(async () => {
    throw new Error('not yet');
  });
}

// Is a loopback port free for one of our servers, and if not, who holds it.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { StackError } from './server.ts';

/** True when 127.0.0.1:port can be bound right now (a listener on 0.0.0.0 or ::ffff:127.0.0.1 counts as taken). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** "java (pid 7001)" from `ss`, when the listener is visible to us; undefined otherwise. */
export function portHolder(port: number): string | undefined {
  const ss = spawnSync('ss', ['-H', '-ltnp', `sport = :${port}`], { encoding: 'utf8' });
  const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(ss.stdout ?? '');
  return m ? `${m[1]} (pid ${m[2]})` : undefined;
}

/** Throws a StackError naming the port, its holder and the variable that moves it. */
export async function assertPortFree(server: string, port: number, envVar: string): Promise<void> {
  if (await isPortFree(port)) return;
  const holder = portHolder(port);
  throw new StackError(
    `${server}: port ${port} on 127.0.0.1 is already in use by ${holder ?? 'another program'}, not by this stack. ` +
      `Stop that program, or choose another port: ${envVar}=<free port> ./tracer up ` +
      '(set the same variable for every tracer command and test).',
  );
}

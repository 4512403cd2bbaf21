// 20,000 short-lived processes, two ways: are exec and exit captured for every one, and
// does the kernel drop anything?
import { spawn } from 'node:child_process';
import { startCapture } from './capture.ts';

const N = Number(process.env.BENCH_PROCESSES ?? 20000);
const PYTHON = '/usr/bin/python3';

const workloads: [string, string, string[]][] = [
  ['shell loop of /bin/true', '/bin/sh', ['-c', `i=0; while [ $i -lt ${N} ]; do /bin/true; i=$((i+1)); done`]],
  [
    'fork/exec storm, 16 in flight',
    PYTHON,
    [
      '-c',
      [
        'import os',
        `n, live = ${N}, 0`,
        'for i in range(n):',
        '    if live >= 16: os.wait(); live -= 1',
        '    pid = os.fork()',
        '    if pid == 0: os.execv("/bin/true", ["/bin/true"])',
        '    live += 1',
        'while live: os.wait(); live -= 1',
      ].join('\n'),
    ],
  ],
];

for (const [name, cmd, args] of workloads) {
  const cap = await startCapture();
  const t0 = performance.now();
  await new Promise((resolve, reject) =>
    spawn(cmd, args, { stdio: 'inherit' }).on('exit', resolve).on('error', reject),
  );
  const seconds = (performance.now() - t0) / 1000;
  await cap.stop();
  const trues = [...cap.execs.values()].filter((e) => e.exe === '/usr/bin/true');
  const exited = trues.filter((e) => cap.exits.has(e.upid)).length;
  const stats = cap.source.stats();
  console.log(
    `${name}: ${N} processes in ${seconds.toFixed(1)} s (${Math.round(N / seconds)}/s); ` +
      `exec captured ${trues.length}/${N}, exit captured ${exited}/${N}; ` +
      `dropped in kernel ${stats.droppedKernel}, in user space ${stats.droppedUser}`,
  );
}

// CPU time and peak RSS of every process against what wait4 gave its parent (the figures
// getrusage(RUSAGE_CHILDREN) and GNU time report), for short tools, most under 20 ms.
import { spawn } from 'node:child_process';
import { median, startCapture } from './capture.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 100);
const PYTHON = '/usr/bin/python3';
const tools = [
  ['/bin/true'],
  ['/bin/echo', 'x'],
  ['/bin/ls', '-la', '/usr/bin'],
  ['/usr/bin/head', '-c', '8000000', '/dev/zero'],
  ['/usr/bin/sort', '/etc/services'],
  ['/usr/bin/gzip', '-c', '/etc/services'],
  ['/usr/bin/md5sum', '/usr/bin/bash'],
  [PYTHON, '-c', 'a = bytearray(30 << 20)'],
];
const py = [
  'import json, os, sys',
  `tools = ${JSON.stringify(tools)}`,
  'out = []',
  `for r in range(${ROUNDS}):`,
  '    for argv in tools:',
  '        pid = os.fork()',
  '        if pid == 0:',
  '            fd = os.open("/dev/null", os.O_WRONLY); os.dup2(fd, 1)',
  '            os.execv(argv[0], argv)',
  '        _, status, ru = os.wait4(pid, 0)',
  '        out.append([pid, ru.ru_utime + ru.ru_stime, ru.ru_maxrss])',
  'sys.stderr.write(json.dumps(out))',
].join('\n');

const cap = await startCapture();
let report = '';
await new Promise((resolve) => {
  const c = spawn(PYTHON, ['-c', py], { stdio: ['ignore', 'inherit', 'pipe'] });
  c.stderr.on('data', (d) => (report += d));
  c.on('exit', resolve);
});
await cap.stop();
const byPid = new Map([...cap.exits.values()].map((e) => [e.pid, e]));
const rows = JSON.parse(report) as [number, number, number][];
const cpuErr: number[] = [];
const rssErr: number[] = [];
let missing = 0;
let short = 0;
let cpuOk = 0;
let rssOk = 0;
for (const [pid, cpuS, maxrssKb] of rows) {
  const e = byPid.get(pid);
  if (!e) {
    missing++;
    continue;
  }
  if ((e.durationNs ?? 0) < 20e6) short++;
  const ours = (e.cpuUserNs + e.cpuSysNs) / 1e9;
  // rusage truncates user and system to microseconds each: up to 2 us below ours.
  const err = Math.abs(ours - cpuS) / Math.max(cpuS, 1e-6);
  cpuErr.push(err);
  if (err <= 0.02 || Math.abs(ours - cpuS) <= 2e-6) cpuOk++;
  const rErr = Math.abs(e.peakRssBytes - maxrssKb * 1024) / (maxrssKb * 1024);
  rssErr.push(rErr);
  if (rErr <= 0.02) rssOk++;
}
const pct = (x: number) => `${(x * 100).toFixed(3)}%`;
console.log(`${rows.length} processes (${short} lived under 20 ms), ${missing} without an exit record`);
console.log(
  `CPU time: ${cpuOk}/${rows.length - missing} within 2% (or 2 us); median error ${pct(median(cpuErr))}, max ${pct(Math.max(...cpuErr))}`,
);
console.log(
  `peak RSS: ${rssOk}/${rows.length - missing} within 2%; median error ${pct(median(rssErr))}, max ${pct(Math.max(...rssErr))}`,
);
console.log(`dropped in kernel ${cap.source.stats().droppedKernel}`);

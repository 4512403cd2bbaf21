// The failure report of one task: summary, root cause, next steps, error entries and the log
// with the error lines marked, as Markdown and as a self-contained HTML page. Pure: the
// command writes the strings to files.
import type { Insight } from '@tracer/events';
import { describeCategory, formatBytes, formatDuration, type RootCause } from './classify.ts';
import type { EvidencePacket } from './evidence.ts';
import type { LogLine } from './log-analysis.ts';

export interface ReportInput {
  insight: Insight;
  rootCause: RootCause;
  packet: EvidencePacket;
  /** Other insights about the same process or task (stalls, waits, retries). */
  related: Insight[];
  /** Full captured output of the failing process (and the processes of its error entries). */
  logs: Array<{ pid: number; tool: string; stream: 'stdout' | 'stderr'; lines: LogLine[] }>;
  tracePath?: string;
  generatedAt: string;
}

/** Lines kept around each marked line when a log is too long to print whole. */
const CONTEXT = 5;
const WHOLE_LOG_MAX = 400;
const HEAD = 40;
const TAIL = 120;

interface Row {
  line: number;
  text: string;
  marked: boolean;
  gapBefore?: number;
}

function selectRows(lines: LogLine[], marked: Set<number>): Row[] {
  if (lines.length <= WHOLE_LOG_MAX)
    return lines.map((l) => ({ line: l.line, text: l.text, marked: marked.has(l.line) }));
  const keep = new Set<number>();
  for (const l of [...lines.slice(0, HEAD), ...lines.slice(-TAIL)]) keep.add(l.line);
  for (const m of marked) for (let i = m - CONTEXT; i <= m + CONTEXT; i++) keep.add(i);
  const rows: Row[] = [];
  let last = 0;
  for (const l of lines) {
    if (!keep.has(l.line)) continue;
    const row: Row = { line: l.line, text: l.text, marked: marked.has(l.line) };
    if (l.line > last + 1) row.gapBefore = l.line - last - 1;
    rows.push(row);
    last = l.line;
  }
  return rows;
}

/** Error entries in log order (the root cause keeps them most decisive first). */
function byLine<T extends { pid: number; stream: string; line: number }>(entries: T[]): T[] {
  return [...entries].sort((a, b) => a.pid - b.pid || a.stream.localeCompare(b.stream) || a.line - b.line);
}

function exitText(p: EvidencePacket): string {
  if (!p.exit) return 'still running at the end of the trace';
  return p.exit.meaning + (p.exit.coreDumped ? ', core dumped' : '');
}

function facts(r: ReportInput): Array<[string, string]> {
  const p = r.packet;
  const t = p.task;
  const rows: Array<[string, string]> = [
    ['Process', `${p.process.tool} (pid ${p.process.pid}${p.process.upid ? `, upid ${p.process.upid}` : ''})`],
    ['Command', p.process.argv.join(' ')],
    ['Working directory', p.process.cwd],
    ['Exit', exitText(p)],
  ];
  if (t && (t.runId || t.step || t.taskId))
    rows.push(['Task', [t.pipeline, t.runId, t.step, t.taskId].filter(Boolean).join(' / ')]);
  if (p.process.durationNs !== undefined) rows.push(['Duration', formatDuration(p.process.durationNs)]);
  rows.push(['Peak memory (RSS)', formatBytes(Math.max(p.resources.peakRssBytes, p.oom?.victimRssBytes ?? 0))]);
  if (p.oom) {
    rows.push([
      'OOM kill',
      `${p.oom.constraint}${p.oom.memoryLimitBytes !== undefined ? `, limit ${formatBytes(p.oom.memoryLimitBytes)}` : ''}${p.oom.memoryUsageBytes !== undefined ? `, usage ${formatBytes(p.oom.memoryUsageBytes)}` : ''}`,
    ]);
  }
  rows.push(['CPU time', formatDuration(p.resources.cpuNs)]);
  rows.push([
    'I/O',
    `read ${formatBytes(p.resources.readBytes)}, wrote ${formatBytes(p.resources.writeBytes)}${p.resources.ioWaitNs ? `, I/O wait ${formatDuration(p.resources.ioWaitNs)}` : ''}`,
  ]);
  if (p.chain.length > 1)
    rows.push([
      'Exit chain',
      p.chain
        .map((c) => `${c.tool} [${c.pid}] ${c.signal ? `signal ${c.signal}` : `exit ${c.exitCode ?? '?'}`}`)
        .join(' → '),
    ]);
  rows.push(['Insight', `${r.insight.kind} (${r.insight.severity}, ${r.insight.state})`]);
  return rows;
}

function sourceText(rc: RootCause): string {
  return rc.source === 'llm'
    ? `written by ${rc.model} (prompt ${rc.promptVersion}) from the evidence packet`
    : 'deterministic classifier';
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderMarkdown(r: ReportInput): string {
  const rc = r.rootCause;
  const out: string[] = [];
  out.push(`# Failure report: ${r.packet.process.tool} (pid ${r.packet.process.pid})`, '');
  out.push(
    `**Root cause: ${describeCategory(rc.category)} (\`${rc.category}\`)**, confidence ${rc.confidence.toFixed(2)}, ${sourceText(rc)}.`,
    '',
  );
  out.push(`> ${rc.criticalIssue}`, '');
  out.push('## Summary', '', r.insight.summary, '', '| | |', '|---|---|');
  for (const [k, v] of facts(r)) out.push(`| ${k} | ${mdEscape(v)} |`);
  out.push('', '## Likely causes', '');
  if (rc.causes.length === 0) out.push('No cause stands out in the evidence.');
  rc.causes.forEach((c, i) => {
    out.push(`${i + 1}. **${c.cause}** (${c.confidence.toFixed(2)})`);
    for (const e of c.evidence) out.push(`   - ${e}`);
  });
  out.push('', '## Next steps', '');
  for (const [i, s] of rc.nextSteps.entries()) out.push(`${i + 1}. ${s}`);
  out.push('', '## Error entries', '');
  if (rc.errorEntries.length === 0) out.push('No error lines were captured.');
  else {
    out.push('| pid | stream | line | text |', '|---|---|---|---|');
    for (const e of byLine(rc.errorEntries))
      out.push(`| ${e.pid} | ${e.stream} | ${e.line} | \`${mdEscape(e.text).replace(/`/g, "'")}\` |`);
  }
  const kernel = [
    ...r.packet.syscallErrors.map(
      (e) =>
        `${e.syscall} → ${e.errno}${e.path ? ` ${e.path}` : ''}${e.addr ? ` ${e.addr}` : ''} (x${e.count}, pid ${e.pid})`,
    ),
    ...r.packet.failedOpens.map((o) => `open ${o.path} → ${o.error} (x${o.count}, pid ${o.pid})`),
  ];
  if (kernel.length) {
    out.push('', '## Failed system calls', '');
    for (const k of kernel) out.push(`- ${k}`);
  }
  if (r.related.length) {
    out.push('', '## Other insights', '');
    for (const i of r.related) out.push(`- **${i.kind}** (${i.severity}, ${i.state}): ${i.summary}`);
  }
  for (const log of r.logs) {
    const marked = new Set(
      rc.errorEntries.filter((e) => e.pid === log.pid && e.stream === log.stream).map((e) => e.line),
    );
    out.push(
      '',
      `## Log: ${log.stream} of ${log.tool} (pid ${log.pid}), ${log.lines.length} lines`,
      '',
      'Lines marked `>>` are error entries.',
      '',
      '```text',
    );
    for (const row of selectRows(log.lines, marked)) {
      if (row.gapBefore) out.push(`   ... ${row.gapBefore} lines ...`);
      out.push(`${row.marked ? '>>' : '  '} ${String(row.line).padStart(5)}  ${row.text.replace(/```/g, "'''")}`);
    }
    out.push('```');
  }
  out.push(
    '',
    `---`,
    `Generated by tracer report at ${r.generatedAt}${r.tracePath ? ` from ${r.tracePath}` : ''}; evidence hash ${rc.evidenceHash}.`,
    '',
  );
  return out.join('\n');
}

function h(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const css = `body{font:14px/1.5 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#1d2330}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #dde}
.cause{background:#fff4f2;border-left:4px solid #d33;padding:.6em 1em}
table{border-collapse:collapse}td,th{border:1px solid #dde;padding:.25em .6em;text-align:left;vertical-align:top}
pre.log{background:#f6f7f9;padding:.5em;overflow-x:auto;font:12px/1.4 ui-monospace,monospace}
pre.log span{display:block;white-space:pre}pre.log .err{background:#ffe0dc;font-weight:600}
pre.log .gap{color:#889}.n{color:#889;user-select:none}code{background:#f0f1f4;padding:0 .2em}`;

export function renderHtml(r: ReportInput): string {
  const rc = r.rootCause;
  const title = `Failure report: ${r.packet.process.tool} (pid ${r.packet.process.pid})`;
  const o: string[] = [];
  o.push(
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<title>${h(title)}</title><style>${css}</style></head><body>`,
  );
  o.push(`<h1>${h(title)}</h1>`);
  o.push(
    `<div class="cause"><p><strong>Root cause: ${h(describeCategory(rc.category))} (<code>${rc.category}</code>)</strong>, confidence ${rc.confidence.toFixed(2)}, ${h(sourceText(rc))}.</p><p>${h(rc.criticalIssue)}</p></div>`,
  );
  o.push('<h2>Summary</h2>', `<p>${h(r.insight.summary)}</p><table>`);
  for (const [k, v] of facts(r)) o.push(`<tr><th>${h(k)}</th><td>${h(v)}</td></tr>`);
  o.push('</table><h2>Likely causes</h2><ol>');
  for (const c of rc.causes)
    o.push(
      `<li><strong>${h(c.cause)}</strong> (${c.confidence.toFixed(2)})<ul>${c.evidence.map((e) => `<li>${h(e)}</li>`).join('')}</ul></li>`,
    );
  o.push('</ol><h2>Next steps</h2><ol>', ...rc.nextSteps.map((s) => `<li>${h(s)}</li>`), '</ol>');
  o.push('<h2>Error entries</h2>');
  if (rc.errorEntries.length === 0) o.push('<p>No error lines were captured.</p>');
  else {
    o.push('<table><tr><th>pid</th><th>stream</th><th>line</th><th>text</th></tr>');
    for (const e of byLine(rc.errorEntries))
      o.push(
        `<tr><td>${e.pid}</td><td>${e.stream}</td><td><a href="#l-${e.pid}-${e.stream}-${e.line}">${e.line}</a></td><td><code>${h(e.text)}</code></td></tr>`,
      );
    o.push('</table>');
  }
  const kernel = [
    ...r.packet.syscallErrors.map(
      (e) =>
        `${e.syscall} → ${e.errno}${e.path ? ` ${e.path}` : ''}${e.addr ? ` ${e.addr}` : ''} (x${e.count}, pid ${e.pid})`,
    ),
    ...r.packet.failedOpens.map((f) => `open ${f.path} → ${f.error} (x${f.count}, pid ${f.pid})`),
  ];
  if (kernel.length)
    o.push('<h2>Failed system calls</h2><ul>', ...kernel.map((k) => `<li><code>${h(k)}</code></li>`), '</ul>');
  if (r.related.length)
    o.push(
      '<h2>Other insights</h2><ul>',
      ...r.related.map((i) => `<li><strong>${h(i.kind)}</strong> (${i.severity}, ${i.state}): ${h(i.summary)}</li>`),
      '</ul>',
    );
  for (const log of r.logs) {
    const marked = new Set(
      rc.errorEntries.filter((e) => e.pid === log.pid && e.stream === log.stream).map((e) => e.line),
    );
    o.push(
      `<h2>Log: ${log.stream} of ${h(log.tool)} (pid ${log.pid}), ${log.lines.length} lines</h2><pre class="log">`,
    );
    for (const row of selectRows(log.lines, marked)) {
      if (row.gapBefore) o.push(`<span class="gap">   ... ${row.gapBefore} lines ...</span>`);
      o.push(
        `<span id="l-${log.pid}-${log.stream}-${row.line}"${row.marked ? ' class="err"' : ''}><span class="n">${String(row.line).padStart(5)}  </span>${h(row.text)}</span>`,
      );
    }
    o.push('</pre>');
  }
  o.push(
    `<hr><p class="n">Generated by tracer report at ${h(r.generatedAt)}${r.tracePath ? ` from ${h(r.tracePath)}` : ''}; evidence hash ${rc.evidenceHash}.</p></body></html>`,
  );
  return o.join('\n');
}

export function renderReport(r: ReportInput): { markdown: string; html: string } {
  return { markdown: renderMarkdown(r), html: renderHtml(r) };
}

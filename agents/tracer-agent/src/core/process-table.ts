// The process table: every process of a trace keyed by upid, with parent links, its last
// exec, its exit, its latest sample and the tail of its stderr. It folds events in trace
// order and answers the grouping, the summary and the anomaly questions.
import type { EventOf, PayloadOf } from '@tracer/events';
import type { SourceRecord } from './source.ts';

type Exit = PayloadOf<'process.exit'>;
type Oom = PayloadOf<'oom.kill'>;

export interface ProcessSampleState {
  ts: number;
  cpuNs: number;
  rssBytes: number;
  readBytes: number;
  writeBytes: number;
  ioWaitNs?: number;
  state: string;
}

export interface ProcessNode {
  upid: string;
  pid: number;
  ppid: number;
  parentUpid?: string;
  /** Upids of children, in the order they appeared. */
  children: string[];
  /** Fork time, else the first exec seen (ns, wall clock). */
  startTs: number;
  exe?: string;
  argv?: string[];
  cwd?: string;
  execCount: number;
  exit?: Exit;
  endTs?: number;
  oom?: Oom & { ts: number };
  lastSample?: ProcessSampleState;
  /** Highest RSS any sample or the exit reported. */
  peakRssBytes: number;
  /** True when any record of this process came from /proc sampling. */
  sampled: boolean;
  /** Last lines the process wrote to stderr (bounded). */
  stderrTail: string[];
}

export type TraceMeta = PayloadOf<'trace.start'> & { ts: number };
export type AgentStatsMeta = PayloadOf<'agent.stats'> & { ts: number };

const STDERR_TAIL_LINES = 8;
const STDERR_LINE_CHARS = 300;

type Recordish = SourceRecord | EventOf<SourceRecord['type']>;

export class ProcessTable {
  readonly nodes = new Map<string, ProcessNode>();
  /** pid -> upid of processes with no exit yet. */
  readonly live = new Map<number, string>();
  meta?: TraceMeta;
  stats?: AgentStatsMeta;
  hostname?: string;
  firstTs?: number;
  lastTs?: number;
  events = 0;
  /** Partial stderr line per upid, completed by the next chunk. */
  private readonly pendingLine = new Map<string, string>();

  static from(events: Iterable<Recordish>): ProcessTable {
    const table = new ProcessTable();
    for (const e of events) table.apply(e);
    return table;
  }

  apply(e: Recordish): void {
    this.events++;
    if (this.firstTs === undefined || e.ts < this.firstTs) this.firstTs = e.ts;
    if (this.lastTs === undefined || e.ts > this.lastTs) this.lastTs = e.ts;
    switch (e.type) {
      case 'trace.start': {
        const { type: _t, ...rest } = e;
        this.meta = rest as TraceMeta;
        return;
      }
      case 'agent.stats': {
        const { type: _t, ...rest } = e;
        this.stats = rest as AgentStatsMeta;
        return;
      }
      case 'host.info':
        this.hostname = e.hostname;
        return;
      case 'process.fork': {
        const node = this.ensure(e.upid, e.pid, e.ppid, e.parentUpid, e.ts);
        if (e.sampled) node.sampled = true;
        return;
      }
      case 'process.exec': {
        const node = this.ensure(e.upid, e.pid, e.ppid, e.parentUpid, e.ts);
        node.exe = e.exe;
        node.argv = e.argv;
        node.cwd = e.cwd;
        node.execCount++;
        if (e.sampled) node.sampled = true;
        return;
      }
      case 'process.exit': {
        const node = this.nodes.get(e.upid) ?? this.ensure(e.upid, e.pid, 0, undefined, e.ts);
        const { type: _t, ts: _ts, ...exit } = e as PayloadOf<'process.exit'> & { type: string; ts: number };
        node.exit = exit as Exit;
        node.endTs = e.ts;
        node.peakRssBytes = Math.max(node.peakRssBytes, e.peakRssBytes);
        if (e.sampled) node.sampled = true;
        if (this.live.get(e.pid) === e.upid) this.live.delete(e.pid);
        this.flushLine(node);
        return;
      }
      case 'process.sample': {
        const node = this.nodes.get(e.upid);
        if (!node) return;
        node.lastSample = {
          ts: e.ts,
          cpuNs: e.cpuNs,
          rssBytes: e.rssBytes,
          readBytes: e.readBytes,
          writeBytes: e.writeBytes,
          state: e.state,
          ...(e.ioWaitNs !== undefined ? { ioWaitNs: e.ioWaitNs } : {}),
        };
        node.peakRssBytes = Math.max(node.peakRssBytes, e.rssBytes);
        return;
      }
      case 'oom.kill': {
        const upid = e.victimUpid ?? this.live.get(e.victimPid);
        const node = upid === undefined ? undefined : this.nodes.get(upid);
        if (!node) return;
        const { type: _t, ...oom } = e;
        node.oom = oom as Oom & { ts: number };
        return;
      }
      case 'log.chunk': {
        if (e.stream !== 'stderr') return;
        const node = this.nodes.get(e.upid);
        if (node) this.appendStderr(node, e.text);
        return;
      }
      default:
        return;
    }
  }

  get(upid: string): ProcessNode | undefined {
    return this.nodes.get(upid);
  }

  parentOf(node: ProcessNode): ProcessNode | undefined {
    return node.parentUpid === undefined ? undefined : this.nodes.get(node.parentUpid);
  }

  childrenOf(node: ProcessNode): ProcessNode[] {
    return node.children.map((u) => this.nodes.get(u)).filter((n): n is ProcessNode => n !== undefined);
  }

  /** The node and all its descendants, parents before children. */
  subtree(node: ProcessNode): ProcessNode[] {
    const out: ProcessNode[] = [];
    const stack = [node];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (seen.has(n.upid)) continue;
      seen.add(n.upid);
      out.push(n);
      stack.push(...this.childrenOf(n).reverse());
    }
    return out;
  }

  /** Processes whose parent is not in the table. */
  roots(): ProcessNode[] {
    return [...this.nodes.values()].filter((n) => this.parentOf(n) === undefined);
  }

  /** When the trace ended: agent.stats, else the last event seen. */
  endTs(): number {
    return this.stats?.ts ?? this.lastTs ?? 0;
  }

  private ensure(upid: string, pid: number, ppid: number, parentUpid: string | undefined, ts: number): ProcessNode {
    let node = this.nodes.get(upid);
    if (node) return node;
    const parent = parentUpid ?? this.live.get(ppid);
    node = {
      upid,
      pid,
      ppid,
      children: [],
      startTs: ts,
      execCount: 0,
      peakRssBytes: 0,
      sampled: false,
      stderrTail: [],
    };
    if (parent !== undefined && parent !== upid) {
      node.parentUpid = parent;
      this.nodes.get(parent)?.children.push(upid);
    }
    this.nodes.set(upid, node);
    this.live.set(pid, upid);
    return node;
  }

  private appendStderr(node: ProcessNode, text: string): void {
    const joined = (this.pendingLine.get(node.upid) ?? '') + text;
    const lines = joined.split('\n');
    const last = lines.pop() ?? '';
    for (const line of lines) this.pushLine(node, line);
    if (last === '') this.pendingLine.delete(node.upid);
    else this.pendingLine.set(node.upid, last.slice(-STDERR_LINE_CHARS * 4));
  }

  private flushLine(node: ProcessNode): void {
    const pending = this.pendingLine.get(node.upid);
    if (pending === undefined) return;
    this.pushLine(node, pending);
    this.pendingLine.delete(node.upid);
  }

  private pushLine(node: ProcessNode, line: string): void {
    const clean = line.replace(/\r$/, '');
    if (clean.trim() === '') return;
    node.stderrTail.push(clean.length > STDERR_LINE_CHARS ? `${clean.slice(0, STDERR_LINE_CHARS)}…` : clean);
    if (node.stderrTail.length > STDERR_TAIL_LINES) node.stderrTail.shift();
  }
}

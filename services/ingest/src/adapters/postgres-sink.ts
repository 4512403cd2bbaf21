// The raw consumer's PostgreSQL side: one transaction per tenant (row-level security as
// tracer_app) that reads the agents' watermarks, lets the core drop replays, writes every
// table with one multi-row statement each, moves the watermarks, and runs `beforeCommit`
// (publishing normalized events) before COMMIT. Offsets are committed by the caller after.
import { APP_ROLE, type Pool, type PoolClient, postgresJson, quoteIdent, withTenant } from '@tracer/db';
import { from as copyFrom } from 'pg-copy-streams';
import { type AcceptedEvent, type AgentUpdate, agentKey, dedupeEvents } from '../core/raw-events.ts';
import { bootKey, estimateBoots, type Rows, toRows } from '../core/rows.ts';

export interface TenantWriteResult {
  fresh: AcceptedEvent[];
  duplicates: number;
  gapEvents: number;
  rows: Record<keyof Omit<Rows, 'notStored'>, number> & { notStored: number };
}

export interface PostgresSinkOptions {
  /** Role for withTenant; null when the pool already logs in as a member of tracer_app. */
  role?: string | null;
  /**
   * The role that COPYs the append-only tables (migration 20261122093000000_ingest_copy_writer);
   * null to insert them as `role` instead. Default tracer_ingest_writer.
   */
  writerRole?: string | null;
}

export const WRITER_ROLE = 'tracer_ingest_writer';

/** Boots are immutable once stored; this many are remembered per process. */
const MAX_CACHED_BOOTS = 100_000;

// Small tables travel as one JSON array (json_to_recordset): one parameter, one statement.
// Microseconds become timestamps exactly (a float8 division can be off by one), the same
// instant as the text a COPY sends for them.
const ts = (col: string) => `('epoch'::timestamptz + r.${col} * interval '1 microsecond')`;

// Event tables are append-only and keyed by the agent sequence (or, for samples, the process
// and instant). Rows reaching them passed the watermark under its row lock, so they are new.
// They are COPYed straight into their tables as tracer_ingest_writer, a role that may insert
// every column but tenant_id, which defaults to tracer_tenant(): COPY refuses tables whose
// row-level security applies to the current role, and costs PostgreSQL about a fifth less CPU
// per event than any INSERT (it inserts rows in batches). Processes merge exec and exit (an
// upsert), so they, and every table when no writer role is configured, go through one
// INSERT ... SELECT FROM unnest(one array parameter per column) as tracer_app: no staging table
// (temp tables cost a write and a scan per row and a truncate per table at every commit).
// Should a key exist anyway (two agents on one host sampling one process at the same
// microsecond), the unique violation rolls the transaction back and it is written again with
// INSERT ... ON CONFLICT DO NOTHING.
const ON_CONFLICT_NOTHING = 'ON CONFLICT DO NOTHING';
const UNIQUE_VIOLATION = '23505';

interface ArrayTable {
  /** The prepared statement's name. */
  name: string;
  /** INSERT ... SELECT ... FROM unnest(...) AS r(...), the row source aliased `r`. */
  insert: string;
  /** ON CONFLICT clause, when the table merges rows. */
  conflict?: string;
  /** The row objects' keys, in parameter order (and COPY order). */
  columnNames: readonly string[];
  /** COPY of the same columns, tenant_id left to its default (tracer_tenant()). */
  copy: string;
}

/**
 * `columns` is `name type, ...` of the row source. Array and JSON columns travel as text
 * elements (an array of arrays would be two-dimensional) and are cast in `select`.
 */
const arrayTable = (t: { columns: string; insert: string; conflict?: string }): ArrayTable => {
  const columns = t.columns.split(',').map((c) => {
    const [name, type] = c.trim().split(' ') as [string, string];
    return { name, type: type.endsWith('[]') || type === 'json' ? 'text' : type };
  });
  const params = columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
  const names = columns.map((c) => c.name).join(', ');
  const [, table, targets] = /INSERT INTO (\w+) \(([^)]*)\)/.exec(t.insert)!;
  return {
    name: `tracer_ingest_${table}`,
    copy: `COPY ${table} (${targets!.replace(/^\s*tenant_id,\s*/, '')}) FROM STDIN`,
    insert: `${t.insert}\n    FROM unnest(${params}) AS r(${names})`,
    ...(t.conflict ? { conflict: t.conflict } : {}),
    columnNames: columns.map((c) => c.name),
  };
};

const SQL = {
  watermarks: `
    SELECT a.host, a.agent_id, a.max_seq::text AS max_seq
    FROM ingest_agents a JOIN unnest($1::text[], $2::text[]) AS k(host, agent_id) USING (host, agent_id)
    WHERE a.tenant_id = tracer_tenant()
    FOR UPDATE OF a`,
  insertBoots: `
    INSERT INTO host_boots (tenant_id, host, boot_prefix, boot_wall_ns)
    SELECT tracer_tenant(), r.host, r.boot_prefix, r.boot_wall_ns
    FROM json_to_recordset($1::json) AS r(host text, boot_prefix text, boot_wall_ns bigint)
    ON CONFLICT DO NOTHING`,
  readBoots: `
    SELECT b.host, b.boot_prefix, b.boot_wall_ns::text AS boot_wall_ns
    FROM host_boots b JOIN unnest($1::text[], $2::text[]) AS k(host, boot_prefix) USING (host, boot_prefix)
    WHERE b.tenant_id = tracer_tenant()`,
  hostInfo: `
    INSERT INTO host_info (tenant_id, host, boot_id, hostname, kernel, cpus, memory_bytes, cloud, instance_id,
      instance_type, region, first_ts, last_ts, agent_id, seq)
    SELECT tracer_tenant(), r.host, r.boot_id, r.hostname, r.kernel, r.cpus, r.memory_bytes, r.cloud, r.instance_id,
      r.instance_type, r.region, ${ts('ts_us')}, ${ts('ts_us')}, r.agent_id, r.seq
    FROM json_to_recordset($1::json) AS r(host text, boot_id text, hostname text, kernel text, cpus integer,
      memory_bytes bigint, cloud text, instance_id text, instance_type text, region text, ts_us bigint,
      agent_id text, seq bigint)
    ON CONFLICT (tenant_id, host, boot_id) DO UPDATE SET
      hostname = EXCLUDED.hostname, kernel = EXCLUDED.kernel, cpus = EXCLUDED.cpus,
      memory_bytes = EXCLUDED.memory_bytes, cloud = EXCLUDED.cloud, instance_id = EXCLUDED.instance_id,
      instance_type = EXCLUDED.instance_type, region = EXCLUDED.region,
      first_ts = LEAST(host_info.first_ts, EXCLUDED.first_ts), last_ts = GREATEST(host_info.last_ts, EXCLUDED.last_ts),
      agent_id = EXCLUDED.agent_id, seq = EXCLUDED.seq`,
  agents: `
    INSERT INTO ingest_agents AS a (tenant_id, host, agent_id, team_id, max_seq, events_written, duplicates_skipped,
      seq_gap_events, mode, dropped_kernel, dropped_user, spooled)
    SELECT tracer_tenant(), r.host, r.agent_id, r.team_id, r.max_seq, r.written, r.duplicates, r.gap_events, r.mode,
      r.dropped_kernel, r.dropped_user, r.spooled
    FROM json_to_recordset($1::json) AS r(host text, agent_id text, team_id uuid, max_seq bigint, written bigint,
      duplicates bigint, gap_events bigint, mode text, dropped_kernel bigint, dropped_user bigint, spooled bigint)
    ON CONFLICT (tenant_id, host, agent_id) DO UPDATE SET
      team_id = COALESCE(EXCLUDED.team_id, a.team_id),
      max_seq = GREATEST(a.max_seq, EXCLUDED.max_seq),
      events_written = a.events_written + EXCLUDED.events_written,
      duplicates_skipped = a.duplicates_skipped + EXCLUDED.duplicates_skipped,
      seq_gap_events = a.seq_gap_events + EXCLUDED.seq_gap_events,
      mode = COALESCE(EXCLUDED.mode, a.mode),
      dropped_kernel = COALESCE(EXCLUDED.dropped_kernel, a.dropped_kernel),
      dropped_user = COALESCE(EXCLUDED.dropped_user, a.dropped_user),
      spooled = COALESCE(EXCLUDED.spooled, a.spooled),
      last_seen_at = now()`,
} as const;

// The append-only tables: how a row is inserted (from a source aliased r) and the columns of
// that source, the same for the JSON path and the staging table a COPY fills.
// processes: exec, fork and exit of one process arrive apart and merge into one row (upsert).
const PROCESSES = arrayTable({
  columns:
    'host text, upid text, start_ts_us bigint, end_ts_us bigint, pid integer, ppid integer, parent_upid text, uid integer, exe text, argv text[], argv_truncated boolean, cwd text, comm text, cgroup_id text, container_id text, env json, exit_code smallint, exit_code_unknown boolean, signal smallint, core_dumped boolean, duration_ns bigint, cpu_user_ns bigint, cpu_sys_ns bigint, peak_rss_bytes bigint, read_bytes bigint, write_bytes bigint, storage_read_bytes bigint, storage_write_bytes bigint, io_wait_ns bigint, net_send_bytes bigint, net_recv_bytes bigint, sampled boolean, agent_id text, exec_seq bigint, exit_seq bigint',
  insert: `    INSERT INTO processes (tenant_id, host, upid, start_ts, end_ts, pid, ppid, parent_upid, uid, exe, argv,
      argv_truncated, cwd, comm, cgroup_id, container_id, env, exit_code, exit_code_unknown, signal, core_dumped,
      duration_ns, cpu_user_ns, cpu_sys_ns, peak_rss_bytes, read_bytes, write_bytes, storage_read_bytes,
      storage_write_bytes, io_wait_ns, net_send_bytes, net_recv_bytes, sampled, agent_id, exec_seq, exit_seq)
    SELECT tracer_tenant(), r.host, r.upid, ${ts('start_ts_us')}, ${ts('end_ts_us')}, r.pid, r.ppid, r.parent_upid,
      r.uid, r.exe, r.argv::text[], r.argv_truncated, r.cwd, r.comm, r.cgroup_id, r.container_id, r.env::jsonb, r.exit_code,
      r.exit_code_unknown, r.signal, r.core_dumped, r.duration_ns, r.cpu_user_ns, r.cpu_sys_ns, r.peak_rss_bytes,
      r.read_bytes, r.write_bytes, r.storage_read_bytes, r.storage_write_bytes, r.io_wait_ns, r.net_send_bytes,
      r.net_recv_bytes, r.sampled, r.agent_id, r.exec_seq, r.exit_seq`,
  conflict: `
    ON CONFLICT (tenant_id, host, upid, start_ts) DO UPDATE SET
      end_ts = COALESCE(EXCLUDED.end_ts, processes.end_ts),
      pid = EXCLUDED.pid,
      ppid = COALESCE(EXCLUDED.ppid, processes.ppid),
      parent_upid = COALESCE(EXCLUDED.parent_upid, processes.parent_upid),
      uid = COALESCE(EXCLUDED.uid, processes.uid),
      exe = COALESCE(EXCLUDED.exe, processes.exe),
      argv = COALESCE(EXCLUDED.argv, processes.argv),
      argv_truncated = COALESCE(EXCLUDED.argv_truncated, processes.argv_truncated),
      cwd = COALESCE(EXCLUDED.cwd, processes.cwd),
      comm = COALESCE(EXCLUDED.comm, processes.comm),
      cgroup_id = COALESCE(EXCLUDED.cgroup_id, processes.cgroup_id),
      container_id = COALESCE(EXCLUDED.container_id, processes.container_id),
      env = COALESCE(EXCLUDED.env, processes.env),
      exit_code = COALESCE(EXCLUDED.exit_code, processes.exit_code),
      exit_code_unknown = COALESCE(EXCLUDED.exit_code_unknown, processes.exit_code_unknown),
      signal = CASE WHEN EXCLUDED.exit_seq IS NOT NULL THEN EXCLUDED.signal ELSE processes.signal END,
      core_dumped = COALESCE(EXCLUDED.core_dumped, processes.core_dumped),
      duration_ns = COALESCE(EXCLUDED.duration_ns, processes.duration_ns),
      cpu_user_ns = COALESCE(EXCLUDED.cpu_user_ns, processes.cpu_user_ns),
      cpu_sys_ns = COALESCE(EXCLUDED.cpu_sys_ns, processes.cpu_sys_ns),
      peak_rss_bytes = COALESCE(EXCLUDED.peak_rss_bytes, processes.peak_rss_bytes),
      read_bytes = COALESCE(EXCLUDED.read_bytes, processes.read_bytes),
      write_bytes = COALESCE(EXCLUDED.write_bytes, processes.write_bytes),
      storage_read_bytes = COALESCE(EXCLUDED.storage_read_bytes, processes.storage_read_bytes),
      storage_write_bytes = COALESCE(EXCLUDED.storage_write_bytes, processes.storage_write_bytes),
      io_wait_ns = COALESCE(EXCLUDED.io_wait_ns, processes.io_wait_ns),
      net_send_bytes = COALESCE(EXCLUDED.net_send_bytes, processes.net_send_bytes),
      net_recv_bytes = COALESCE(EXCLUDED.net_recv_bytes, processes.net_recv_bytes),
      sampled = processes.sampled OR EXCLUDED.sampled,
      agent_id = EXCLUDED.agent_id,
      exec_seq = COALESCE(EXCLUDED.exec_seq, processes.exec_seq),
      exit_seq = COALESCE(EXCLUDED.exit_seq, processes.exit_seq),
      updated_at = now()`,
});

const APPEND = {
  processSamples: arrayTable({
    columns:
      'host text, upid text, ts_us bigint, cpu_ns bigint, rss_bytes bigint, read_bytes bigint, write_bytes bigint, io_wait_ns bigint, net_send_bytes bigint, net_recv_bytes bigint, state text, threads integer, sampled boolean, agent_id text, seq bigint',
    insert: `    INSERT INTO process_samples (tenant_id, host, upid, ts, cpu_ns, rss_bytes, read_bytes, write_bytes, io_wait_ns,
      net_send_bytes, net_recv_bytes, state, threads, sampled, agent_id, seq)
    SELECT tracer_tenant(), r.host, r.upid, ${ts('ts_us')}, r.cpu_ns, r.rss_bytes, r.read_bytes, r.write_bytes,
      r.io_wait_ns, r.net_send_bytes, r.net_recv_bytes, r.state, r.threads, r.sampled, r.agent_id, r.seq`,
  }),
  hostSamples: arrayTable({
    columns:
      'host text, ts_us bigint, cpu_busy_ratio real, load1 real, memory_used_bytes bigint, memory_available_bytes bigint, disk_used_bytes bigint, disk_total_bytes bigint, net_recv_bytes bigint, net_send_bytes bigint, pressure json, agent_id text, seq bigint',
    insert: `    INSERT INTO host_samples (tenant_id, host, ts, cpu_busy_ratio, load1, memory_used_bytes, memory_available_bytes,
      disk_used_bytes, disk_total_bytes, net_recv_bytes, net_send_bytes, pressure, agent_id, seq)
    SELECT tracer_tenant(), r.host, ${ts('ts_us')}, r.cpu_busy_ratio, r.load1, r.memory_used_bytes,
      r.memory_available_bytes, r.disk_used_bytes, r.disk_total_bytes, r.net_recv_bytes, r.net_send_bytes,
      r.pressure::jsonb, r.agent_id, r.seq`,
  }),
  logs: arrayTable({
    columns:
      'host text, agent_id text, seq bigint, ts_us bigint, upid text, pid integer, stream text, text text, dropped_bytes bigint, sampled boolean',
    insert: `    INSERT INTO process_logs (tenant_id, host, agent_id, seq, ts, upid, pid, stream, text, dropped_bytes, sampled)
    SELECT tracer_tenant(), r.host, r.agent_id, r.seq, ${ts('ts_us')}, r.upid, r.pid, r.stream, r.text,
      r.dropped_bytes, r.sampled`,
  }),
  fileOpens: arrayTable({
    columns:
      'host text, agent_id text, seq bigint, ts_us bigint, upid text, pid integer, path text, flags integer, error text, sampled boolean',
    insert: `    INSERT INTO file_opens (tenant_id, host, agent_id, seq, ts, upid, pid, path, flags, error, sampled)
    SELECT tracer_tenant(), r.host, r.agent_id, r.seq, ${ts('ts_us')}, r.upid, r.pid, r.path, r.flags, r.error, r.sampled`,
  }),
  oomKills: arrayTable({
    columns:
      'host text, agent_id text, seq bigint, ts_us bigint, victim_pid integer, victim_upid text, victim_comm text, trigger_pid integer, oom_constraint text, cgroup_id text, memory_limit_bytes bigint, memory_usage_bytes bigint, victim_rss_bytes bigint',
    insert: `    INSERT INTO oom_kills (tenant_id, host, agent_id, seq, ts, victim_pid, victim_upid, victim_comm, trigger_pid,
      oom_constraint, cgroup_id, memory_limit_bytes, memory_usage_bytes, victim_rss_bytes)
    SELECT tracer_tenant(), r.host, r.agent_id, r.seq, ${ts('ts_us')}, r.victim_pid, r.victim_upid, r.victim_comm,
      r.trigger_pid, r.oom_constraint, r.cgroup_id, r.memory_limit_bytes, r.memory_usage_bytes, r.victim_rss_bytes`,
  }),
};

export class PostgresSink {
  readonly #pool: Pool;
  readonly #role: string | null | undefined;
  readonly #writerRole: string | null;
  readonly #boots = new Map<string, number>();

  constructor(pool: Pool, options: PostgresSinkOptions = {}) {
    this.#pool = pool;
    this.#role = options.role;
    this.#writerRole = options.writerRole === undefined ? WRITER_ROLE : options.writerRole;
  }

  /**
   * Writes one tenant's events: replays (at or below an agent's watermark) are skipped,
   * the rest written; `beforeCommit` runs inside the transaction with the fresh events.
   */
  async writeTenant(
    tenant: string,
    events: readonly AcceptedEvent[],
    beforeCommit: (fresh: AcceptedEvent[]) => Promise<void>,
  ): Promise<TenantWriteResult> {
    try {
      return await this.#writeTenant(tenant, events, beforeCommit, false);
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      this.safeRetries++;
      return this.#writeTenant(tenant, events, beforeCommit, true);
    }
  }

  /** Transactions written again with ON CONFLICT after a unique violation (see above). */
  safeRetries = 0;

  #writeTenant(
    tenant: string,
    events: readonly AcceptedEvent[],
    beforeCommit: (fresh: AcceptedEvent[]) => Promise<void>,
    safe: boolean,
  ): Promise<TenantWriteResult> {
    const options = this.#role === undefined ? {} : { role: this.#role };
    return withTenant(
      this.#pool,
      tenant,
      async (client) => {
        const watermarks = await this.#watermarks(client, events);
        const { fresh, agents, duplicates } = dedupeEvents(events, watermarks);
        const freshEvents = fresh.map((a) => a.event);
        await this.#resolveBoots(client, tenant, estimateBoots(freshEvents));
        const rows = toRows(freshEvents, (host, prefix) => this.#boots.get(`${tenant}\u0000${bootKey(host, prefix)}`));
        await insertArrays(client, PROCESSES, rows.processes, PROCESSES.conflict);
        await insert(client, SQL.hostInfo, rows.hostInfo);
        const append = (Object.entries(APPEND) as [keyof typeof APPEND, ArrayTable][])
          .map(([name, table]) => ({ table, rows: rows[name] as readonly object[] }))
          .filter((t) => t.rows.length > 0);
        if (safe || this.#writerRole === null) {
          for (const t of append) await insertArrays(client, t.table, t.rows, safe ? ON_CONFLICT_NOTHING : undefined);
        } else if (append.length > 0) {
          await client.query(`SET LOCAL ROLE ${quoteIdent(this.#writerRole)}`);
          for (const t of append) await copyRows(client, t.table, t.rows);
          const back = this.#role === undefined ? APP_ROLE : this.#role;
          await client.query(`SET LOCAL ROLE ${back === null ? 'NONE' : quoteIdent(back)}`);
        }
        await insert(client, SQL.agents, agents.map(agentRow));
        if (fresh.length > 0) await beforeCommit(fresh);
        return {
          fresh,
          duplicates,
          gapEvents: agents.reduce((n, a) => n + a.gapEvents, 0),
          rows: {
            processes: rows.processes.length,
            processSamples: rows.processSamples.length,
            hostInfo: rows.hostInfo.length,
            hostSamples: rows.hostSamples.length,
            logs: rows.logs.length,
            fileOpens: rows.fileOpens.length,
            oomKills: rows.oomKills.length,
            notStored: rows.notStored,
          },
        };
      },
      options,
    );
  }

  async #watermarks(client: PoolClient, events: readonly AcceptedEvent[]): Promise<Map<string, number>> {
    const hosts: string[] = [];
    const agentIds: string[] = [];
    const seen = new Set<string>();
    let last: AcceptedEvent['event'] | undefined;
    for (const { event } of events) {
      // Events come in runs of one agent: compare with the previous one before building a key.
      if (last && last.host === event.host && last.agentId === event.agentId) continue;
      last = event;
      const key = agentKey(event.host, event.agentId);
      if (seen.has(key)) continue;
      seen.add(key);
      hosts.push(event.host);
      agentIds.push(event.agentId);
    }
    const { rows } = await client.query<{ host: string; agent_id: string; max_seq: string }>(SQL.watermarks, [
      hosts,
      agentIds,
    ]);
    return new Map(rows.map((r) => [agentKey(r.host, r.agent_id), Number(r.max_seq)]));
  }

  /** Stores the first estimate of each new boot, then reads back whichever estimate won. */
  async #resolveBoots(
    client: PoolClient,
    tenant: string,
    estimates: { host: string; bootPrefix: string; bootWallNs: number }[],
  ): Promise<void> {
    const missing = estimates.filter((b) => !this.#boots.has(`${tenant}\u0000${bootKey(b.host, b.bootPrefix)}`));
    if (missing.length === 0) return;
    await client.query(SQL.insertBoots, [
      postgresJson(missing.map((b) => ({ host: b.host, boot_prefix: b.bootPrefix, boot_wall_ns: b.bootWallNs }))),
    ]);
    const { rows } = await client.query<{ host: string; boot_prefix: string; boot_wall_ns: string }>(SQL.readBoots, [
      missing.map((b) => b.host),
      missing.map((b) => b.bootPrefix),
    ]);
    if (this.#boots.size + rows.length > MAX_CACHED_BOOTS) this.#boots.clear();
    for (const r of rows) this.#boots.set(`${tenant}\u0000${bootKey(r.host, r.boot_prefix)}`, Number(r.boot_wall_ns));
  }
}

function agentRow(a: AgentUpdate) {
  return {
    host: a.host,
    agent_id: a.agentId,
    team_id: a.team ?? null,
    max_seq: a.maxSeq,
    written: a.written,
    duplicates: a.duplicates,
    gap_events: a.gapEvents,
    mode: a.stats?.mode ?? null,
    dropped_kernel: a.stats?.droppedKernel ?? null,
    dropped_user: a.stats?.droppedUser ?? null,
    spooled: a.stats?.spooled ?? null,
  };
}

async function insert(client: PoolClient, sql: string, rows: readonly object[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(sql, [postgresJson(rows)]);
}

/** One INSERT ... SELECT FROM unnest of the rows' columns, each column one array literal. */
async function insertArrays(
  client: PoolClient,
  table: ArrayTable,
  rows: readonly object[],
  conflict: string | undefined,
): Promise<void> {
  if (rows.length === 0) return;
  const list = rows as readonly Record<string, unknown>[];
  // Named: each connection parses and plans the statement once, then binds new arrays.
  await client.query({
    name: conflict ? `${table.name}:${conflict.length}` : table.name,
    text: conflict ? `${table.insert} ${conflict}` : table.insert,
    values: table.columnNames.map((column) => arrayOf(list, column)),
  });
}

/** COPY of rows into their table, in chunks. */
async function copyRows(client: PoolClient, table: ArrayTable, rows: readonly object[]): Promise<void> {
  const copy = client.query(copyFrom(table.copy));
  const done = new Promise<void>((resolve, reject) => {
    copy.once('finish', resolve);
    copy.once('error', reject);
  });
  for (const chunk of copyText(rows as readonly Record<string, unknown>[], table.columnNames)) {
    if (!copy.write(chunk)) await new Promise((r) => copy.once('drain', r));
  }
  copy.end();
  await done;
}

const COPY_SPECIAL = /[\\\t\n\r\0]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\uFFFD' };

/** A value in COPY's text format. NUL, which text cannot hold, becomes U+FFFD. */
function copyField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 't' : 'f';
  const s =
    typeof v === 'string' ? v : Array.isArray(v) ? `{${v.map((x) => quoted(String(x))).join(',')}}` : postgresJson(v);
  return COPY_SPECIAL.test(s) ? s.replace(/[\\\t\n\r\0]/g, (c) => COPY_ESCAPES[c]!) : s;
}

/** Second-resolution timestamp text by second: rows of a batch share a few thousand seconds. */
const secondTexts = new Map<number, string>();

/** JavaScript dates end at 8.64e15 ms on either side of the epoch. */
const MAX_DATE_SECONDS = 8.64e12;

/**
 * Microseconds since the epoch as timestamptz text (UTC). An instant no date can hold becomes
 * text PostgreSQL refuses (a data error: its record is dead-lettered, as the SQL path's
 * "timestamp out of range" would), never an exception that would stall the partition.
 */
export function timestampText(us: number): string {
  const second = Math.floor(us / 1e6);
  if (!(Math.abs(second) <= MAX_DATE_SECONDS)) return `invalid timestamp ${us}`;
  let text = secondTexts.get(second);
  if (text === undefined) {
    if (secondTexts.size >= 100_000) secondTexts.clear();
    text = new Date(second * 1000).toISOString().slice(0, 19);
    secondTexts.set(second, text);
  }
  // 1e6 + fraction has seven digits: its last six are the zero-padded fraction.
  return `${text}.${String(1e6 + us - second * 1e6).slice(1)}Z`;
}

/**
 * COPY text for rows, in chunks; `*_us` columns are timestamps (lone surrogates become U+FFFD
 * when encoded). A column often repeats its value (host, agent, upid): the last one's text is
 * reused instead of escaped again.
 */
export function* copyText(rows: readonly Record<string, unknown>[], columns: readonly string[]): Generator<Buffer> {
  const CHUNK = 2000;
  const times = columns.map((c) => c.endsWith('_us'));
  const lastValue: unknown[] = columns.map(() => undefined);
  const lastText: string[] = columns.map(() => '\\N');
  for (let i = 0; i < rows.length; i += CHUNK) {
    let text = '';
    const end = Math.min(rows.length, i + CHUNK);
    for (let r = i; r < end; r++) {
      const row = rows[r]!;
      for (let c = 0; c < columns.length; c++) {
        const v = row[columns[c]!];
        let field: string;
        if (v === lastValue[c] && typeof v !== 'object') field = lastText[c]!;
        else {
          field = times[c] && typeof v === 'number' ? timestampText(v) : copyField(v);
          lastValue[c] = v;
          lastText[c] = field;
        }
        text += c === 0 ? field : `\t${field}`;
      }
      text += '\n';
    }
    yield Buffer.from(text);
  }
}

const QUOTED = /["\\\0]/;
const QUOTE_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\0': '\uFFFD' };

/** An element of an array literal, quoted; NUL, which text cannot hold, becomes U+FFFD. */
const quoted = (s: string) => `"${QUOTED.test(s) ? s.replace(/["\\\0]/g, (c) => QUOTE_ESCAPES[c]!) : s}"`;

/**
 * A column of rows as an array literal (`{1,NULL,"text"}`): numbers and booleans bare, strings
 * quoted, arrays as their own literal and objects as JSON, both quoted as text elements.
 */
export function arrayOf(rows: readonly Record<string, unknown>[], column: string): string {
  let out = '{';
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i]![column];
    if (i > 0) out += ',';
    if (v === null || v === undefined) out += 'NULL';
    else if (typeof v === 'number') out += String(v);
    else if (typeof v === 'boolean') out += v ? 't' : 'f';
    else if (typeof v === 'string') out += quoted(v);
    else if (Array.isArray(v)) out += quoted(`{${v.map((x) => quoted(String(x))).join(',')}}`);
    else out += quoted(postgresJson(v));
  }
  return `${out}}`;
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { latestTrace, tracesDir } from '@tracer/tracer-agent';

/** A path, or a file name in the traces folder; none: the most recent trace. */
export function resolveTrace(file: string | undefined): string {
  const dir = tracesDir();
  if (file === undefined) {
    const latest = latestTrace(dir);
    if (!latest) throw new Error(`no traces in ${dir} (tracer run -- CMD writes one)`);
    return latest.path;
  }
  if (existsSync(file)) return file;
  for (const candidate of [join(dir, file), join(dir, `${file}.gz`)]) if (existsSync(candidate)) return candidate;
  throw new Error(`no trace ${file} (neither a file nor a name in ${dir})`);
}

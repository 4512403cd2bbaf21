// The file-facts adapter: reads the files the attribution core asks for (a Nextflow
// `.command.run` header, `.exitcode`, a Snakefile, Snakemake's own log) and hands their first
// bytes back as `file.fact` inputs. Absent or unreadable files become facts with null text,
// so the core stops waiting for them.
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { FileFact, FileWant } from './core/index.ts';

export function readFileFact(want: FileWant): FileFact {
  const path = want.glob ? pickGlob(want) : want.path;
  if (path === null) return { type: 'file.fact', path: want.path, text: null };
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(want.maxBytes);
    const n = readSync(fd, buf, 0, want.maxBytes, 0);
    return {
      type: 'file.fact',
      path: want.glob ? want.path : path,
      text: buf.subarray(0, n).toString('utf8'),
      resolvedPath: path,
    };
  } catch {
    return { type: 'file.fact', path: want.path, text: null };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** `dir/*.suffix`: the matching file whose last change is nearest to `nearTs`. */
function pickGlob(want: FileWant): string | null {
  const dir = dirname(want.path);
  const pattern = basename(want.path);
  const star = pattern.indexOf('*');
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  let best: { path: string; distance: number } | null = null;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(suffix)) continue;
    const path = join(dir, name);
    try {
      const mtimeNs = Number(statSync(path, { bigint: true }).mtimeNs);
      const distance = Math.abs(mtimeNs - (want.nearTs ?? mtimeNs));
      if (!best || distance < best.distance) best = { path, distance };
    } catch {
      // Vanished between listing and stat.
    }
  }
  return best?.path ?? null;
}

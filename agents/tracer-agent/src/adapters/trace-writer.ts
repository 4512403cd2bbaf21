// Appends events to a JSON Lines trace file, one write per batch. Synchronous so the file
// holds every event handed over even if the process is killed right after, and the order on
// disk is the order of the calls.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export class TraceWriter {
  readonly path: string;
  written = 0;
  private fd: number | undefined;

  constructor(path: string) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'w');
  }

  write(events: readonly object[]): void {
    if (events.length === 0) return;
    if (this.fd === undefined) throw new Error(`trace ${this.path} is closed`);
    let text = '';
    for (const e of events) text += `${JSON.stringify(e)}\n`;
    const buf = Buffer.from(text);
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off);
    this.written += events.length;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

// The wire form of an agent batch: a one-byte format version, then zstd-compressed JSON Lines.
// JSON keeps batches readable with standard tools after decompression; zstd (built into
// node:zlib) shrinks the repetitive envelope fields by an order of magnitude.
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';

export const BATCH_FORMAT_V1 = 1;
/** Refuse to inflate past this: a small compressed body must not become gigabytes in memory. */
export const MAX_DECODED_BATCH_BYTES = 64 * 1024 * 1024;

export class BatchDecodeError extends Error {
  override name = 'BatchDecodeError';
}

export function encodeBatch(events: readonly object[]): Buffer {
  const lines = events.map((e) => JSON.stringify(e)).join('\n');
  return Buffer.concat([Buffer.of(BATCH_FORMAT_V1), zstdCompressSync(Buffer.from(lines))]);
}

/**
 * Decodes a batch into its raw objects, one per line; lines that are not JSON come back as
 * `{ error, line }` so the caller can dead-letter them and keep the rest.
 */
export function decodeBatch(bytes: Uint8Array): Array<{ value: unknown } | { error: string; line: string }> {
  if (bytes.length === 0) throw new BatchDecodeError('empty batch');
  if (bytes[0] !== BATCH_FORMAT_V1) throw new BatchDecodeError(`unknown batch format ${bytes[0]}`);
  let text: string;
  try {
    text = zstdDecompressSync(bytes.subarray(1), { maxOutputLength: MAX_DECODED_BATCH_BYTES }).toString();
  } catch (err) {
    throw new BatchDecodeError(`batch is not valid zstd: ${(err as Error).message}`);
  }
  if (text === '') return [];
  return text.split('\n').map((line) => {
    try {
      return { value: JSON.parse(line) as unknown };
    } catch (err) {
      return { error: `line is not JSON: ${(err as Error).message}`, line };
    }
  });
}

export type BatchItem = ReturnType<typeof decodeBatch>[number];

/**
 * A Kafka record holding an agent batch: its items, or why the whole record is unusable (empty,
 * not a batch), the reason its dead letter carries. Other errors are thrown.
 */
export function decodeRecord(value: Buffer | null | undefined): { items: BatchItem[] } | { reason: string } {
  if (!value?.length) return { reason: 'empty record' };
  try {
    return { items: decodeBatch(value) };
  } catch (err) {
    if (!(err instanceof BatchDecodeError)) throw err;
    return { reason: err.message };
  }
}

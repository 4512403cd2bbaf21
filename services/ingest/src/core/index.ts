// The ingest core: pure functions over events and rows, no I/O.
export * from './api-key.ts';
export * from './ingest-batch.ts';
export * from './raw-events.ts';
export * from './record-headers.ts';
export * from './rows.ts';

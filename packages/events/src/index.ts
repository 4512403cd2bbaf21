export * from './schemas.ts';
export * from './validate.ts';
export * from './batch.ts';
export * from './json-schema.ts';
export * from './topics.ts';
export * from './golden.ts';
export * from './attribution.ts';
export * from './insights.ts';

export * from './attribution.ts';
export * from './batch.ts';
export * from './golden.ts';
export * from './insights.ts';
export * from './json-schema.ts';
export * from './schemas.ts';
export * from './topics.ts';
export * from './validate.ts';

export * from './exact-json.ts';
export * from './line-reader.ts';
export * from './messages.ts';
export * from './parser.ts';
export * from './protocol-error.ts';
export * from './stitch-streams.ts';
export * from './writer.ts';

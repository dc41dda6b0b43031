export * from './auth.js';
export * from './gateway.js';
export * from './ui/index.js';
export * from './perf/index.js';

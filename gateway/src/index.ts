export * from './auth.js';
export * from './gateway.js';

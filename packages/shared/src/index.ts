export * from './errors.js';
export * from './ids.js';
export * from './types/common.js';
export * from './types/tenant.js';
export * from './types/keys.js';
export * from './types/agent.js';
export * from './types/audit.js';
export * from './types/health.js';

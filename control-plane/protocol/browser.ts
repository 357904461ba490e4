// The part of the protocol a browser bundle may import: plain constants, no schema
// library. The SDK imports values from here and types from the main entry.

export * from './chat-constants.ts';
export * from './errors.ts';
export * from './signaling-constants.ts';

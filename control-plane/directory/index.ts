// @kaskade/directory: the room state every node shares, in Redis. Every key is
// spelled in this folder and nowhere else.
export { Directory } from './Directory.ts';
export type { LivenessSnapshot } from './NodeLiveness.ts';

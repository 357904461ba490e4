// @kaskade/local-mesh: a whole Kaskade mesh on one machine, for the demo, the tests
// and the benchmarks. It starts nats-server, redis-server and Prometheus on free
// loopback ports, the edge, relay and control-plane processes, and stops them all.
export { makeServerCertificate } from './certificates.ts';
export type { EdgeProcess } from './edge-process.ts';
export { spawnEdge } from './edge-process.ts';
export type { LocalMesh, MeshEdge } from './local-mesh.ts';
export { scrapeTargets, startLocalMesh } from './local-mesh.ts';
export { busPermissions, natsServerConfig } from './nats-auth.ts';
export type { NodeProcess } from './node-process.ts';
export { operatorFetch, operatorJson, operatorText } from './operator-client.ts';
export { freePort } from './ports.ts';
export type { NatsService, Service } from './services.ts';
export { startNats, startPrometheus, startRedis } from './services.ts';

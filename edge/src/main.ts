import { runProcess } from '@kaskade/node-toolkit';
import { loadEdgeConfig } from './config.ts';
import { Edge } from './Edge.ts';

/** Entry point of the edge process; SIGTERM (or the operator's POST /v1/drain) drains it. */
await runProcess({
  name: 'edge',
  loadConfig: loadEdgeConfig,
  base: (config) => ({ node: config.nodeId }),
  start: Edge.start,
  stopped: (edge) => edge.stopped,
});

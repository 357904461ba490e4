import { runProcess } from '../../control-plane/common/run-process.ts';
import { loadEdgeConfig } from './config.ts';
import { Edge } from './Edge.ts';

/** Entry point of the edge process; SIGTERM drains it. */
await runProcess({
  name: 'edge',
  loadConfig: loadEdgeConfig,
  base: (config) => ({ node: config.nodeId }),
  start: Edge.start,
});

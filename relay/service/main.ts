import { runProcess } from '@kaskade/node-toolkit';
import { loadRelayConfig } from './config.ts';
import { RelayNode } from './RelayNode.ts';

/** Entry point of a relay node. */
await runProcess({
  name: 'relay',
  loadConfig: loadRelayConfig,
  base: (config) => ({ node: config.nodeId, region: config.region }),
  start: RelayNode.start,
});

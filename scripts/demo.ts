// The local setup: an edge and the demo page. Run through scripts/demo.sh, which
// installs what is needed first. Ctrl-C stops everything.
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { serverUrl, startDemoServer } from '../client-sdk/dev-server.ts';
import { spawnEdge } from './lib/edge-process.ts';

const secret = process.env.KASKADE_JWT_SECRET ?? randomBytes(24).toString('hex');
const workers = Number(process.env.KASKADE_WORKERS ?? Math.min(2, availableParallelism()));
const verbose = process.env.KASKADE_DEMO_VERBOSE === '1';

const edge = await spawnEdge({
  workers,
  env: { KASKADE_JWT_SECRET: secret, KASKADE_NODE_ID: 'edge-local-1', KASKADE_LOG_LEVEL: 'info' },
  log: (line) => {
    if (verbose || /"level":(40|50|60)/.test(line)) console.log(`[edge] ${line}`);
  },
});
const web = await startDemoServer({
  port: Number(process.env.KASKADE_DEMO_PORT ?? 8080),
  edgeUrl: edge.url,
  jwtSecret: secret,
}).catch(() => startDemoServer({ edgeUrl: edge.url, jwtSecret: secret })); // 8080 taken: any free port

console.log(`
  Kaskade local setup is running.

    demo page   ${serverUrl(web)}      <- open in two tabs (Chromium; see README for Firefox)
    edge        ${edge.url}  (${workers} mediasoup worker${workers > 1 ? 's' : ''}, pid ${edge.child.pid})
    health      ${edge.url}/readyz
    node stats  ${edge.url}/v1/node

  Ctrl-C stops everything.
`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  console.log('\n  stopping...');
  await web.close();
  const code = await edge.stop(5000);
  console.log(`  edge exited (${code}). Bye.`);
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
edge.child.once('exit', (code) => {
  if (stopping) return;
  console.error(`edge exited unexpectedly (${code})`);
  process.exit(1);
});

// The local setup: a whole Kaskade mesh on this machine and the demo page.
// Run through scripts/demo.sh, which installs what is needed first. Ctrl-C stops everything.
import { serverUrl, startDemoServer } from '../client-sdk/dev-server.ts';
import { startLocalMesh } from './lib/local-mesh.ts';

const verbose = process.env.KASKADE_DEMO_VERBOSE === '1';
const mesh = await startLocalMesh({
  relaysPerRegion: 1,
  natsUrl: process.env.KASKADE_NATS_URL,
  redisUrl: process.env.KASKADE_REDIS_URL,
  log: (source, line) => {
    if (verbose || /"level":(40|50|60)/.test(line)) console.log(`[${source}] ${line}`);
  },
});
const backend = {
  kind: 'control-plane' as const,
  url: mesh.controlPlane.url,
  appJwtSecret: mesh.appJwtSecret,
  regions: mesh.regions,
};
const web = await startDemoServer({ port: Number(process.env.KASKADE_DEMO_PORT ?? 8080), backend }).catch(
  () => startDemoServer({ backend }), // 8080 taken: any free port
);

const rows = mesh.edges.map(
  (e) => `    ${e.nodeId.padEnd(14)} region ${e.region.padEnd(4)} ${e.url}  (pid ${e.child.pid})`,
);
console.log(`
  Kaskade local mesh is running.

    demo page      ${serverUrl(web)}   <- open two tabs, pick different regions, join the same room
    control plane  ${mesh.controlPlane.url}   (GET /v1/nodes, /v1/rooms)
    nats           ${mesh.natsUrl}${mesh.nats ? '' : ' (given)'}
    redis          ${mesh.redisUrl}${mesh.redis ? '' : ' (given)'}
${rows.join('\n')}

  Ctrl-C stops everything.
`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  console.log('\n  stopping...');
  await web.close();
  await mesh.stop();
  console.log('  all stopped. Bye.');
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const edge of mesh.edges) {
  edge.child.once('exit', (code) => {
    if (!stopping) console.error(`  ${edge.nodeId} exited unexpectedly (${code}); the others carry on`);
  });
}

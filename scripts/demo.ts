// The local setup: a whole Kaskade mesh on this machine and the demo page.
// Run through scripts/demo.sh, which installs what is needed first. Ctrl-C stops everything.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverUrl, startDemoServer } from '@kaskade/client-sdk/dev-server';
import { scrapeTargets, startLocalMesh, startPrometheus } from '@kaskade/local-mesh';

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

// --prometheus: a Prometheus scraping every process, with the alert rules loaded.
const prometheus = process.argv.includes('--prometheus')
  ? await startPrometheus({
      targets: scrapeTargets(mesh),
      operatorToken: mesh.operatorToken,
      ruleFiles: [fileURLToPath(new URL('../deploy/prometheus/alerts.yml', import.meta.url))],
      port: process.env.KASKADE_PROMETHEUS_PORT ? Number(process.env.KASKADE_PROMETHEUS_PORT) : undefined,
    })
  : undefined;

const rows = [...mesh.edges, ...mesh.relays].map(
  (e) =>
    `    ${e.nodeId.padEnd(14)} region ${e.region.padEnd(4)} ${e.url}  operator ${e.operatorUrl}  (pid ${e.child.pid})`,
);
// The operator token goes to a file only this user reads, not to the terminal's scrollback.
const tokenDir = mkdtempSync(join(tmpdir(), 'kaskade-demo-'));
const tokenFile = join(tokenDir, 'operator-token');
writeFileSync(tokenFile, mesh.operatorToken, { mode: 0o600 });
console.log(`
  Kaskade local mesh is running.

    demo page      ${serverUrl(web)}   <- open two tabs, pick different regions, join the same room
    control plane  ${mesh.controlPlane.url}   (join)
      operator API ${mesh.controlPlane.operatorUrl}   (GET /v1/nodes, /v1/rooms, /metrics)
    operator token in ${tokenFile}
      e.g. curl -H "Authorization: Bearer $(cat ${tokenFile})" ${mesh.controlPlane.operatorUrl}/v1/nodes
    nats           ${mesh.natsUrl}${mesh.nats ? '' : ' (given)'}
    redis          ${mesh.redisUrl.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')}${mesh.redis ? '' : ' (given)'}
${rows.join('\n')}
${
  prometheus
    ? `    prometheus     ${prometheus.url}   (alerts: ${prometheus.url}/alerts; config ${prometheus.configFile})
                   dashboards for Grafana: deploy/grafana/dashboards/*.json (see deploy/README.md)`
    : '    (add --prometheus to also start Prometheus against the mesh)'
}

  Ctrl-C stops everything.
`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  console.log('\n  stopping...');
  await web.close();
  await prometheus?.stop();
  await mesh.stop();
  rmSync(tokenDir, { recursive: true, force: true });
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

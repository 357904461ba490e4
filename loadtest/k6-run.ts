// Runs a k6 script of loadtest/k6 against a Kaskade mesh and writes its summary:
//   node loadtest/k6-run.ts [--joins 200] [--vus 20] [--cp URL --app-secret S] [--out loadtest/reports]
//   node loadtest/k6-run.ts --install-only      (make sure k6 is there)
// Without --cp it starts a local mesh (NATS, Redis, control plane, 2 regions x 2 edges)
// and stops it afterwards. k6 is found on PATH or in ~/go/bin, or installed with go install.
import { parseArgs } from 'node:util';
import { ensureK6, runJoinStorm } from '@kaskade/load-tools';
import { startLocalMesh } from '@kaskade/local-mesh';

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      joins: { type: 'string', default: '200' },
      vus: { type: 'string', default: '20' },
      cp: { type: 'string' },
      'app-secret': { type: 'string' },
      out: { type: 'string', default: 'loadtest/reports' },
      'install-only': { type: 'boolean', default: false },
    },
  });
  if (values['install-only']) {
    console.log(`k6: ${ensureK6()}`);
    process.exit(0);
  }
  const mesh = values.cp ? undefined : await startLocalMesh();
  try {
    const result = await runJoinStorm({
      cpUrl: values.cp ?? mesh!.controlPlane.url,
      appSecret: values['app-secret'] ?? mesh!.appJwtSecret,
      regions: mesh?.regions ?? [],
      joins: Number(values.joins),
      vus: Number(values.vus),
      outDir: values.out,
    });
    console.log(`k6 exited ${result.exitCode}; summary in ${values.out}/k6-join-storm.json`);
    process.exitCode = result.exitCode;
  } finally {
    await mesh?.stop();
  }
}

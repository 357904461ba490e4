// Fails with a clear message when mediasoup has no worker binary to spawn.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// mediasoup's main is node/lib/index.js; its worker sits at worker/out/Release from the package root.
const pkgDir = join(dirname(require.resolve('mediasoup')), '..', '..');
const fromEnv = process.env.MEDIASOUP_WORKER_BIN;
const bundled = join(pkgDir, 'worker', 'out', 'Release', 'mediasoup-worker');

if (fromEnv) {
  if (!existsSync(fromEnv)) {
    console.error(`MEDIASOUP_WORKER_BIN=${fromEnv} does not exist`);
    process.exit(1);
  }
} else if (!existsSync(bundled)) {
  console.error(
    `mediasoup has no worker at ${bundled}.\n` +
      'Either its postinstall was skipped (run: npm rebuild mediasoup) or this machine is offline:\n' +
      'set MEDIASOUP_WORKER_BIN to a mediasoup-worker binary (see README, "Offline install").',
  );
  process.exit(1);
}

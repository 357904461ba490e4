import { fileURLToPath } from 'node:url';
import { type NodeProcess, spawnNodeProcess } from './node-process.ts';
import { freePort } from './ports.ts';

export type ControlPlaneProcess = NodeProcess;

/** Starts the control plane as a child process on a free port and waits until it is ready. */
export async function spawnControlPlane(
  env: Record<string, string>,
  log: (line: string) => void = () => {},
): Promise<ControlPlaneProcess> {
  const port = await freePort();
  return spawnNodeProcess({
    main: fileURLToPath(new URL('../../control-plane/src/main.ts', import.meta.url)),
    url: `http://127.0.0.1:${port}`,
    log,
    env: { KASKADE_CP_HTTP_HOST: '127.0.0.1', KASKADE_CP_HTTP_PORT: String(port), ...env },
  });
}

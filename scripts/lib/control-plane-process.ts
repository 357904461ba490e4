import { fileURLToPath } from 'node:url';
import { type NodeProcess, spawnNodeProcess } from './node-process.ts';
import { freePort } from './ports.ts';

export type ControlPlaneProcess = NodeProcess;

/**
 * Starts the control plane as a child process on free ports (public and operator API)
 * (or the given ones) and waits until it is ready; env must carry KASKADE_OPERATOR_TOKEN.
 */
export async function spawnControlPlane(
  env: Record<string, string>,
  log: (line: string) => void = () => {},
  /** Fixed ports (a restart on the URLs clients know); default: free ones. */
  ports?: { port: number; operatorPort: number },
): Promise<ControlPlaneProcess> {
  const port = ports?.port ?? (await freePort());
  const operatorPort = ports?.operatorPort ?? (await freePort());
  return spawnNodeProcess({
    main: fileURLToPath(new URL('../../control-plane/service/main.ts', import.meta.url)),
    url: `http://127.0.0.1:${port}`,
    operatorUrl: `http://127.0.0.1:${operatorPort}`,
    log,
    env: {
      KASKADE_CP_HTTP_HOST: '127.0.0.1',
      KASKADE_CP_HTTP_PORT: String(port),
      KASKADE_OPERATOR_HOST: '127.0.0.1',
      KASKADE_OPERATOR_PORT: String(operatorPort),
      ...env,
    },
  });
}

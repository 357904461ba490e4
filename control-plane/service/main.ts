import { runProcess } from '@kaskade/node-toolkit';
import { ControlPlane } from './ControlPlane.ts';
import { loadControlPlaneConfig } from './config.ts';

/** Entry point of the control-plane process. */
await runProcess({
  name: 'control plane',
  loadConfig: loadControlPlaneConfig,
  base: () => ({ component: 'control-plane' }),
  start: ControlPlane.start,
});

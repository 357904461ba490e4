import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { describeEnvConfig } from '../../control-plane/common/env-config.ts';
import { ControlPlaneConfigSchema } from '../../control-plane/src/config.ts';
import { EdgeConfigSchema } from '../../edge/src/config.ts';

it('the README documents every configuration variable as the schemas define it', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  expect(readme).toContain(describeEnvConfig(EdgeConfigSchema));
  expect(readme).toContain(describeEnvConfig(ControlPlaneConfigSchema));
});

import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { describeEnvConfig } from '../../control-plane/common/env-config.ts';
import { EdgeConfigSchema } from '../../edge/src/config.ts';

it('the README documents every edge configuration variable as the schema defines it', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  expect(readme).toContain(describeEnvConfig(EdgeConfigSchema));
});

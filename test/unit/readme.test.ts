import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { configTables, withTables } from '../../scripts/config-table.ts';

it('the README documents every configuration variable as the schemas define it', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const name of Object.keys(configTables)) expect(readme).toContain(`<!-- config:${name} -->`);
  // Regenerate with: node scripts/config-table.ts --write
  expect(readme).toBe(withTables(readme));
});

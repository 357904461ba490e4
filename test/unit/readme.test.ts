import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('the README documents every configuration variable as the schemas define it', () => {
  // Regenerate with: node scripts/config-table.ts --write
  const script = fileURLToPath(new URL('../../scripts/config-table.ts', import.meta.url));
  const check = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  expect(check.stderr).toBe('');
  expect(check.status).toBe(0);
});

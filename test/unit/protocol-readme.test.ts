import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('the protocol README lists every request, notification, subject, RPC and code as the schemas define them', () => {
  // Regenerate with: node scripts/protocol-doc.ts --write
  const script = fileURLToPath(new URL('../../scripts/protocol-doc.ts', import.meta.url));
  const check = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  expect(check.stderr).toBe('');
  expect(check.status).toBe(0);
});

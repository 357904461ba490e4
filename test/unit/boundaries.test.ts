import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { boundaryViolations } from '../helpers/workspace-imports.ts';

const repository = fileURLToPath(new URL('../..', import.meta.url));

describe('folder boundaries', () => {
  it('every cross-folder import goes through a public entry and is declared', () => {
    expect(boundaryViolations(repository)).toEqual([]);
  });

  it('the check finds deep imports, undeclared packages and reaching across tooling folders', () => {
    const root = mkdtempSync(join(tmpdir(), 'kaskade-boundaries-'));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    try {
      write('package.json', JSON.stringify({ workspaces: ['lib/a', 'lib/b'] }));
      write('lib/a/package.json', JSON.stringify({ name: '@fixture/a', exports: { '.': './index.ts' } }));
      write('lib/b/package.json', JSON.stringify({ name: '@fixture/b', exports: { '.': './index.ts' } }));
      write('lib/a/index.ts', "export { x } from './x.ts';\n");
      write('lib/a/x.ts', 'export const x = 1;\n');
      write(
        'lib/b/index.ts',
        "import { x } from '@fixture/a';\nimport { y } from '../a/x.ts';\nexport { x, y };\n",
      );
      write('test/t.ts', "import '@fixture/a/x.ts';\nimport { z } from '../tools/z.ts';\n");
      write('tools/z.ts', 'export const z = 1;\n');
      expect(boundaryViolations(root, '@fixture')).toEqual([
        'lib/b/index.ts: @fixture/b uses @fixture/a without declaring it in package.json',
        "lib/b/index.ts: '../a/x.ts' reaches into @fixture/a; import its package",
        "test/t.ts: '@fixture/a/x.ts' is not exported",
        "test/t.ts: '../tools/z.ts' reaches into another folder (tools/z.ts)",
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

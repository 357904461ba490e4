import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJoinStorm } from '@kaskade/load-tools';
import { type LocalMesh, startLocalMesh } from '@kaskade/local-mesh';
import { afterAll, beforeAll, expect, it } from 'vitest';

let mesh: LocalMesh;
beforeAll(async () => {
  mesh = await startLocalMesh({ edgeEnv: { KASKADE_LOG_LEVEL: 'warn' } });
}, 60_000);
afterAll(async () => {
  await mesh?.stop();
});

it('the k6 join-storm script runs against a real mesh and every join reaches a recv transport', async () => {
  const result = await runJoinStorm({
    cpUrl: mesh.controlPlane.url,
    appSecret: mesh.appJwtSecret,
    regions: mesh.regions,
    joins: 30,
    vus: 6,
    outDir: mkdtempSync(join(tmpdir(), 'kaskade-k6-')),
  });
  expect(result.exitCode).toBe(0);
  const metrics = result.summary.metrics as Record<string, Record<string, number>>;
  expect(metrics.checks?.passes).toBe(60);
  expect(metrics.checks?.fails).toBe(0);
  expect(metrics.iterations?.count).toBe(30);
  expect(metrics.kaskade_join_failed?.count).toBe(0);
  expect(metrics.kaskade_join_signal_ms?.max).toBeGreaterThan(0);
}, 120_000);

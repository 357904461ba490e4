import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RtpBot } from '@kaskade/load-tools';
import { spawnEdge } from '@kaskade/local-mesh';
import { CloseCodes } from '@kaskade/protocol';
import { describe, expect, it } from 'vitest';
import { eventually, TEST_OPERATOR_TOKEN, TEST_SECRET, token } from '../helpers/edge.ts';
import { RawSocket } from '../helpers/raw-socket.ts';

const MAIN = fileURLToPath(new URL('../../edge/src/main.ts', import.meta.url));

describe('the edge process', () => {
  it('exits with EX_CONFIG (78) and names the bad variables', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, KASKADE_JWT_SECRET: 'short', KASKADE_HTTP_PORT: 'http' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(78);
    expect(stderr).toMatch(/KASKADE_JWT_SECRET/);
    expect(stderr).toMatch(/KASKADE_HTTP_PORT="http"/);
  });

  it('answers health checks and drains on SIGTERM: not ready, no new sockets, participants told, exit 0', async () => {
    const edge = await spawnEdge({
      env: {
        KASKADE_JWT_SECRET: TEST_SECRET,
        KASKADE_OPERATOR_TOKEN: TEST_OPERATOR_TOKEN,
        KASKADE_ALLOW_PLAIN_RTP: 'true',
        KASKADE_SHUTDOWN_TIMEOUT_MS: '1500',
      },
    });
    expect((await fetch(`${edge.url}/livez`)).status).toBe(200);
    expect((await fetch(`${edge.url}/readyz`)).status).toBe(200);
    const bot = await RtpBot.join(edge.url, await token('stayer', 'drain-room'));
    await bot.publish('microphone');
    const closed = new Promise<number>((resolve) => bot.channel.on('close', (code) => resolve(code)));

    const exited = new Promise<number | null>((resolve) => edge.child.once('exit', resolve));
    edge.child.kill('SIGTERM');
    await eventually(async () => expect((await fetch(`${edge.url}/readyz`)).status).toBe(503));
    expect((await fetch(`${edge.url}/livez`)).status).toBe(200);
    await expect(RawSocket.open(edge.url)).rejects.toThrow(); // upgrade refused with 503 while draining
    expect(await closed).toBe(CloseCodes.goingAway); // the deadline passed with the participant still in
    expect(await exited).toBe(0);
    await bot.close();
  });
});

describe('the token script', () => {
  it('issues a token the edge accepts, with the grants asked for', async () => {
    const script = fileURLToPath(new URL('../../scripts/token.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      [script, '--room', 'cli-room', '--identity', 'cli', '--name', 'Cli User', '--subscribe-only'],
      { env: { ...process.env, KASKADE_JWT_SECRET: TEST_SECRET }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
    const { TokenVerifier } = await import('@kaskade/node-toolkit');
    const claims = await (await TokenVerifier.create({ secret: TEST_SECRET })).verify(out.trim());
    expect(claims).toMatchObject({
      sub: 'cli',
      name: 'Cli User',
      room: 'cli-room',
      grants: { publish: false, subscribe: true },
    });
  });
});

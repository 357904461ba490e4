import { execFile, execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The two packages an application installs, as it gets them: built, packed by npm,
// installed into a project outside the repository (no network: the tarballs are unpacked
// by hand and their registry dependencies linked from the repository's node_modules), a
// consumer's TypeScript checked against the published declarations (skipLibCheck off, so
// the declarations themselves are checked too) and the bundles imported by Node.

const repository = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(repository, 'node_modules/typescript/bin/tsc');
const execFileAsync = promisify(execFile);
const run = (command: string, args: string[], cwd: string) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface Packed {
  dir: string;
  files: string[];
  manifest: {
    name: string;
    dependencies?: Record<string, string>;
    exports: Record<string, unknown>;
    private?: boolean;
  };
}

const packages = { client: 'client-sdk', server: 'control-plane/server-sdk' };
let work: string;
let app: string;
const packed: Record<keyof typeof packages, Packed> = {} as never;

/** `npm pack` (its build already done once for both), unpacked into the app's node_modules. */
function pack(folder: string): Packed {
  const out = JSON.parse(
    run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], join(repository, folder)),
  ) as { filename: string; files: { path: string }[] }[];
  const manifest = JSON.parse(
    readFileSync(join(repository, folder, 'package.json'), 'utf8'),
  ) as Packed['manifest'];
  const dir = join(app, 'node_modules', manifest.name);
  mkdirSync(dir, { recursive: true });
  run('tar', ['-xzf', join(work, out[0]!.filename), '-C', dir, '--strip-components=1'], work);
  return { dir, files: out[0]!.files.map((f) => f.path).sort(), manifest };
}

/** A registry dependency, as npm would have installed it: here the repository's copy. */
function linkDependency(name: string) {
  const target = join(app, 'node_modules', name);
  mkdirSync(join(target, '..'), { recursive: true });
  symlinkSync(join(repository, 'node_modules', name), target);
}

beforeAll(() => {
  // `npm test` built them just before; a build from other sources (or a changed output) is redone.
  run(process.execPath, [join(repository, 'scripts/build-packages.ts'), '--if-stale'], repository);
  work = mkdtempSync(join(tmpdir(), 'kaskade-packages-'));
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'an-app', private: true, type: 'module' }));
  packed.client = pack(packages.client);
  packed.server = pack(packages.server);
  const dependencies = new Set(
    [packed.client, packed.server].flatMap((p) => Object.keys(p.manifest.dependencies ?? {})),
  );
  for (const name of [...dependencies, '@types/node']) linkDependency(name);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('published packages', () => {
  it('pack only the built output, the README and the changelog, and depend on published packages only', () => {
    expect(packed.client.files).toEqual([
      'CHANGELOG.md',
      'README.md',
      'dist/kaskade.d.ts',
      'dist/kaskade.js',
      'dist/kaskade.js.map',
      'package.json',
    ]);
    expect(packed.server.files).toEqual([
      'CHANGELOG.md',
      'README.md',
      'dist/index.d.ts',
      'dist/index.js',
      'dist/index.js.map',
      'package.json',
    ]);
    for (const p of [packed.client, packed.server]) {
      expect(p.manifest.private).toBeUndefined();
      expect(Object.keys(p.manifest.dependencies ?? {}).filter((d) => d.startsWith('@kaskade/'))).toEqual([]);
      // Nothing published imports an unpublished @kaskade package (or mediasoup, the server's).
      for (const file of p.files.filter((f) => /\.(js|d\.ts)$/.test(f))) {
        const text = readFileSync(join(p.dir, file), 'utf8');
        const imported = [...text.matchAll(/(?:from|import)\s*\(?\s*["']([^"'./][^"']*)["']/g)].map(
          (m) => m[1]!,
        );
        const declared = Object.keys(p.manifest.dependencies ?? {});
        const foreign = imported.filter(
          (specifier) =>
            !specifier.startsWith('node:') &&
            !declared.some((d) => specifier === d || specifier.startsWith(`${d}/`)),
        );
        expect(foreign, `${p.manifest.name} ${file}`).toEqual([]);
      }
    }
  });

  it("type-check an application's code against the published declarations, in both module resolutions", async () => {
    const src = join(app, 'src');
    mkdirSync(src, { recursive: true });
    writeFileSync(
      join(src, 'browser.ts'),
      `import { type ConnectOptions, meetingLayout, type RemoteTrack, RequestError, Room, type Source } from '@kaskade/client-sdk';

const options: ConnectOptions = {
  token: async ({ avoid }) => ({ url: 'https://edge.example', token: 't', node: avoid[0] }),
  reconnectTimeoutMs: 30_000,
};
export async function join(): Promise<Room> {
  const room = await Room.connect(options);
  room.on('trackAdded', (track: RemoteTrack) => console.log(track.id, track.participant.name));
  room.on('connectionStateChanged', (state) => console.log(state satisfies 'connecting' | 'connected' | 'reconnecting' | 'closed'));
  const source: Source = 'screen';
  await room.setPublicationPaused(source, true);
  return room;
}
export const isRefusal = (e: unknown) => e instanceof RequestError && e.code === 'FORBIDDEN';
export const layout = meetingLayout;
// @ts-expect-error: the token is a string or a ticket provider
export const wrong: ConnectOptions = { token: 42 };
// @ts-expect-error: no such source
export const noSource: Source = 'hologram';
`,
    );
    writeFileSync(
      join(src, 'server.ts'),
      `import { type IncomingMessage } from 'node:http';
import { JoinGrants, JoinTokenIssuer, KaskadeApi, KaskadeApiError, verifyWebhook, type WebhookEvent } from '@kaskade/server-sdk';

const issuer = new JoinTokenIssuer({ algorithm: 'HS256', secret: process.env.SECRET ?? '' });
export const hostToken: Promise<string> = issuer.mint({ room: 'standup', identity: 'ada', name: 'Ada', grants: JoinGrants.host() });
export const audience = issuer.mint({ room: 'lecture', identity: 'bo', name: 'Bo', grants: JoinGrants.viewer(), role: 'audience', lecture: true });
const api = new KaskadeApi({ url: 'https://kaskade.example', apiKey: 'key' });
export const summary = api.room('standup').then((s) => s.room.toUpperCase());
export const isGone = (e: unknown) => e instanceof KaskadeApiError && e.code === 'NOT_FOUND' && e.status === 404;
export function onWebhook(raw: Buffer, request: IncomingMessage): string {
  const event: WebhookEvent = verifyWebhook(raw, request.headers, { secret: ['new', 'previous'] });
  if (event.type === 'participantJoined') return event.data.participant.name;
  return event.room;
}
// @ts-expect-error: the key's algorithm is HS256 or ES256
new JoinTokenIssuer({ algorithm: 'RS256', secret: 'x' });
// @ts-expect-error: grants carry booleans
issuer.mint({ room: 'r', identity: 'i', name: 'n', grants: { publish: 'yes', subscribe: true } });
`,
    );
    // A Node server and a browser app (nodenext); a bundled browser app (bundler, no Node types).
    // The two checks are independent (a tsconfig each): they run side by side.
    const setups = [
      { moduleResolution: 'nodenext', module: 'NodeNext', types: ['node'], include: ['src'] },
      { moduleResolution: 'bundler', module: 'ESNext', types: [], include: ['src/browser.ts'] },
    ];
    const outputs = await Promise.all(
      setups.map(async ({ include, ...options }) => {
        const tsconfig = `tsconfig.${options.moduleResolution}.json`;
        writeFileSync(
          join(app, tsconfig),
          JSON.stringify({
            compilerOptions: {
              ...options,
              target: 'ES2022',
              lib: ['ES2022', 'DOM', 'DOM.Iterable'],
              strict: true,
              skipLibCheck: false, // the published declarations are checked too
              skipDefaultLibCheck: true, // TypeScript's own lib files are not ours to check
              noEmit: true,
            },
            include,
          }),
        );
        try {
          const { stdout } = await execFileAsync(process.execPath, [tsc, '-p', tsconfig], { cwd: app });
          return stdout;
        } catch (error) {
          return `${(error as { stdout?: string }).stdout ?? ''}${(error as Error).message}`;
        }
      }),
    );
    for (const [i, { moduleResolution }] of setups.entries()) expect(outputs[i], moduleResolution).toBe('');
  }, 300_000);

  it('import in Node from outside the repository: the bundles work without @kaskade/protocol', () => {
    expect(readdirSync(join(app, 'node_modules/@kaskade')).sort()).toEqual(['client-sdk', 'server-sdk']);
    const script = `
import * as client from '@kaskade/client-sdk';
import { JoinTokenIssuer, JoinGrants, signWebhook, verifyWebhook, WebhookHeaders } from '@kaskade/server-sdk';
import { decodeJwt } from 'jose';
const layout = client.meetingLayout({ participants: ['a', 'b', 'c'], speakerOrder: ['c'], pinned: [] });
const token = await new JoinTokenIssuer({ algorithm: 'HS256', secret: 's'.repeat(32) }).mint({ room: 'r1', identity: 'ada', name: 'Ada', grants: JoinGrants.host() });
const body = JSON.stringify({ id: 'e1', type: 'roomEnded', room: 'r1', createdAt: 1, data: {} });
const now = Math.floor(Date.now() / 1000);
const event = verifyWebhook(body, { [WebhookHeaders.id]: 'e1', [WebhookHeaders.timestamp]: String(now), [WebhookHeaders.signature]: signWebhook('k', now, body) }, { secret: 'k' });
console.log(JSON.stringify({ exports: Object.keys(client).sort(), room: typeof client.Room.connect, layout, claims: decodeJwt(token), event }));
`;
    const result = JSON.parse(run(process.execPath, ['--input-type=module', '-e', script], app)) as {
      exports: string[];
      room: string;
      layout: { stage: string[] };
      claims: Record<string, unknown>;
      event: unknown;
    };
    expect(result.exports).toEqual([
      'ConnectionClosedError',
      'GENERAL',
      'RequestError',
      'Room',
      'RoomChat',
      'SignalingChannel',
      'meetingLayout',
    ]);
    expect(result.room).toBe('function');
    expect(result.layout.stage).toEqual(['c']); // the bundle computes, not just loads
    expect(result.claims).toMatchObject({
      sub: 'ada',
      room: 'r1',
      aud: 'kaskade',
      grants: { moderate: true },
    });
    expect(result.event).toEqual({ id: 'e1', type: 'roomEnded', room: 'r1', createdAt: 1, data: {} });
  });
});

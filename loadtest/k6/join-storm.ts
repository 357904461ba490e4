// k6: a join storm against the control plane and the edges' signaling, up to the point
// where media would start: HTTP join (placement), then over the edge's WebSocket:
// capabilities, join, a recv transport, leave. Run through `node loadtest/k6-run.ts`,
// which starts or names a mesh and hands this script pre-signed application tokens.
import { check } from 'k6';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';
import { WebSocket } from 'k6/websockets';

// The protocol's paths come from the runner (loadtest/lib/k6.ts), which takes them from
// @kaskade/protocol: k6 bundles this script itself and cannot import the workspace packages.
const JOIN_URL = __ENV.KASKADE_JOIN_URL; // the control plane's join of the storm's room
const SIGNALING_PATH = __ENV.KASKADE_SIGNALING_PATH;
const REGIONS = (__ENV.KASKADE_REGIONS ?? '').split(',').filter(Boolean);
const tokens = new SharedArray('tokens', () => JSON.parse(open(__ENV.KASKADE_TOKENS_FILE)) as string[]);

export const options = {
  scenarios: {
    storm: {
      executor: 'shared-iterations',
      vus: Number(__ENV.KASKADE_VUS ?? 10),
      iterations: Number(__ENV.KASKADE_JOINS ?? 50),
      maxDuration: __ENV.KASKADE_MAX_DURATION ?? '60s',
    },
  },
  thresholds: {
    checks: ['rate==1'],
    kaskade_join_failed: ['count==0'],
  },
};

const placeTime = new Trend('kaskade_join_place_ms', true);
const signalTime = new Trend('kaskade_join_signal_ms', true);
const failed = new Counter('kaskade_join_failed');

interface Frame {
  id?: number;
  ok?: boolean;
  data?: Record<string, unknown>;
  error?: { code: string; message: string };
}

export default function joinOnce(): void {
  const n = exec.scenario.iterationInTest;
  const region = REGIONS.length > 0 ? REGIONS[n % REGIONS.length] : undefined;
  const placed = http.post(JOIN_URL, JSON.stringify({ token: tokens[n % tokens.length], region }), {
    headers: { 'content-type': 'application/json' },
  });
  placeTime.add(placed.timings.duration);
  if (!check(placed, { 'control plane placed the join': (r) => r.status === 200 })) {
    failed.add(1);
    return;
  }
  // The fields of the protocol's HttpJoinReply this script uses.
  const { edgeUrl, edgeToken } = placed.json() as { edgeUrl: string; edgeToken: string };
  const started = Date.now();
  const ws = new WebSocket(`${edgeUrl.replace(/^http/, 'ws')}${SIGNALING_PATH}`);
  const send = (id: number, method: string, data: unknown) => ws.send(JSON.stringify({ id, method, data }));
  let done = false;
  ws.onopen = () => send(1, 'getRouterRtpCapabilities', {});
  ws.onmessage = (event) => {
    if (!event) return;
    const frame = JSON.parse(String(event.data)) as Frame;
    if (frame.id === undefined) return; // a notification
    if (!frame.ok) {
      check(frame, { 'edge answered without error': () => false });
      failed.add(1);
      ws.close();
      return;
    }
    if (frame.id === 1) send(2, 'join', { token: edgeToken, rtpCapabilities: frame.data!.rtpCapabilities });
    else if (frame.id === 2) send(3, 'createTransport', { direction: 'recv' });
    else if (frame.id === 3) {
      signalTime.add(Date.now() - started);
      check(frame, { 'edge gave a recv transport': (f) => typeof f.data?.id === 'string' });
      send(4, 'leave', {});
    } else if (frame.id === 4) {
      done = true;
      ws.close();
    }
  };
  ws.onclose = () => {
    if (!done) {
      check(null, { 'signaling completed': () => false });
      failed.add(1);
    }
  };
}

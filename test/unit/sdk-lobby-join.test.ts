import { RequestError, SignalingChannel } from '@kaskade/client-sdk';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/** A WebSocket as the browser gives it, with the edge's side played by the test. */
class FakeSocket extends EventTarget {
  static readonly OPEN = 1;
  static last: FakeSocket | undefined;
  readyState = 0;
  readonly sent: { id: number; method: string }[] = [];
  constructor() {
    super();
    FakeSocket.last = this;
    queueMicrotask(() => {
      this.readyState = FakeSocket.OPEN;
      this.dispatchEvent(new Event('open'));
    });
  }
  send(raw: string): void {
    this.sent.push(JSON.parse(raw));
  }
  close(code = 1000, reason = ''): void {
    this.readyState = 3;
    this.dispatchEvent(Object.assign(new Event('close'), { code, reason }));
  }
  /** The edge sends a frame. */
  deliver(frame: unknown): void {
    this.dispatchEvent(Object.assign(new Event('message'), { data: JSON.stringify(frame) }));
  }
}

describe('SDK: a join the edge holds in the lobby', () => {
  beforeEach(() => {
    vi.stubGlobal('WebSocket', FakeSocket);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  const open = async () => {
    const channel = await SignalingChannel.open('http://edge.test', { timeoutMs: 1000 });
    vi.useFakeTimers();
    return { channel, socket: FakeSocket.last! };
  };

  it('a request without an answer times out', async () => {
    const { channel } = await open();
    const answer = channel.request('listChannels', {}, { heldBy: 'lobbyWaiting' });
    const failed = expect(answer).rejects.toMatchObject({ code: 'TIMEOUT' });
    vi.advanceTimersByTime(1001);
    await failed;
  });

  it('once the edge says it holds the join (lobbyWaiting), the join waits past its timeout for the admission', async () => {
    const { channel, socket } = await open();
    const positions: number[] = [];
    channel.on('lobbyWaiting', ({ position }) => positions.push(position));
    const answer = channel.request('leave', {}, { heldBy: 'lobbyWaiting' });
    vi.advanceTimersByTime(500);
    socket.deliver({ notification: 'lobbyWaiting', data: { position: 2 } });
    vi.advanceTimersByTime(60_000);
    socket.deliver({ notification: 'lobbyWaiting', data: { position: 1 } });
    vi.advanceTimersByTime(60_000);
    socket.deliver({ id: socket.sent[0]!.id, ok: true, data: { admitted: true } });
    await expect(answer).resolves.toEqual({ admitted: true });
    expect(positions).toEqual([2, 1]);
  });

  it('another notification does not hold it; a request not held by lobbyWaiting still times out', async () => {
    const { channel, socket } = await open();
    const plain = channel.request('leave', {});
    const heldElsewhere = channel.request('listChannels', {}, { heldBy: 'meetingEnded' });
    socket.deliver({ notification: 'lobbyWaiting', data: { position: 1 } });
    const failures = Promise.all([
      expect(plain).rejects.toBeInstanceOf(RequestError),
      expect(heldElsewhere).rejects.toMatchObject({ code: 'TIMEOUT' }),
    ]);
    vi.advanceTimersByTime(1001);
    await failures;
  });

  it("denied: the held join fails with the edge's FORBIDDEN; the socket closing ends a held join too", async () => {
    const { channel, socket } = await open();
    const denied = channel.request('leave', {}, { heldBy: 'lobbyWaiting' });
    const dropped = channel.request('listChannels', {}, { heldBy: 'lobbyWaiting' });
    socket.deliver({ notification: 'lobbyWaiting', data: { position: 1 } });
    vi.advanceTimersByTime(5000);
    socket.deliver({ id: socket.sent[0]!.id, ok: false, error: { code: 'FORBIDDEN', message: 'denied' } });
    await expect(denied).rejects.toMatchObject({ code: 'FORBIDDEN', method: 'leave' });
    socket.close(4403, 'denied');
    await expect(dropped).rejects.toThrow(/signaling closed \(4403\)/);
  });
});

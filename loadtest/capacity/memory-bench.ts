// The consumer memory benchmark, one command (well under a minute):
//   node loadtest/capacity/memory-bench.ts [--transports 200] [--consumers 4000]
// What one receive transport and one consumer cost in memory, in the mediasoup worker
// (its resident set) and in the Node process that holds the objects: one router with the
// edge's codecs, a plain-RTP publisher of a microphone and a simulcast camera, then
// --transports receive transports, then --consumers paused consumers spread over them
// (half audio, half video), as a meeting's participants hold a consumer per stream; and
// the CPU one consume takes (the Node side and the worker).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { mediaCodecs } from '@kaskade/media-node';
import { createWorker, type types } from 'mediasoup';

const { values: args } = parseArgs({
  options: { transports: { type: 'string', default: '200' }, consumers: { type: 'string', default: '4000' } },
});
const TRANSPORTS = Number(args.transports);
const CONSUMERS = Number(args.consumers);

const rssKb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const worker = await createWorker({ logLevel: 'warn' });
const measure = () => {
  globalThis.gc?.();
  return { workerKb: rssKb(worker.pid), nodeHeapKb: process.memoryUsage().heapUsed / 1024 };
};
try {
  const router = await worker.createRouter({ mediaCodecs });
  const listen = { protocol: 'udp' as const, ip: '127.0.0.1' };
  const send = await router.createPlainTransport({ listenInfo: listen, rtcpMux: true, comedia: true });
  const mic = await send.produce({
    kind: 'audio',
    rtpParameters: {
      codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc: 1111 }],
    },
  });
  const cam = await send.produce({
    kind: 'video',
    rtpParameters: {
      codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
      encodings: [{ ssrc: 2221 }, { ssrc: 2222 }, { ssrc: 2223 }],
    },
  });
  const before = measure();
  const transports: types.PlainTransport[] = [];
  for (let i = 0; i < TRANSPORTS; i++)
    transports.push(await router.createPlainTransport({ listenInfo: listen, rtcpMux: true, comedia: true }));
  const withTransports = measure();
  const cpuOf = (pid: number) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  const [node0, worker0] = [process.cpuUsage(), cpuOf(worker.pid)];
  for (let i = 0; i < CONSUMERS; i++)
    await transports[i % TRANSPORTS]!.consume({
      producerId: (i % 2 ? cam : mic).id,
      rtpCapabilities: router.rtpCapabilities,
      paused: true,
    });
  const nodeCpu = process.cpuUsage(node0);
  const consumeCpuMs = {
    node: (nodeCpu.user + nodeCpu.system) / 1000 / CONSUMERS,
    worker: ((cpuOf(worker.pid) - worker0) * 1000) / CONSUMERS,
  };
  const withConsumers = measure();
  const per = (a: number, b: number, n: number) => Math.round(((b - a) / n) * 100) / 100;
  const result = {
    date: new Date().toISOString(),
    transports: TRANSPORTS,
    consumers: CONSUMERS,
    kbPerTransport: {
      worker: per(before.workerKb, withTransports.workerKb, TRANSPORTS),
      nodeHeap: per(before.nodeHeapKb, withTransports.nodeHeapKb, TRANSPORTS),
    },
    consumeCpuMs,
    kbPerConsumer: {
      worker: per(withTransports.workerKb, withConsumers.workerKb, CONSUMERS),
      nodeHeap: per(withTransports.nodeHeapKb, withConsumers.nodeHeapKb, CONSUMERS),
    },
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  worker.close();
}

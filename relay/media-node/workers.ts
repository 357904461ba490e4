/**
 * mediasoup (3.27) closes every worker on SIGINT/SIGTERM by itself. A draining edge
 * needs its workers alive until participants have moved, so the pool owns those
 * signals: the handlers mediasoup adds while creating a worker are taken off again.
 */
export async function withoutSignalHandlers<T>(create: () => Promise<T>): Promise<T> {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = signals.map((signal) => new Set(process.listeners(signal)));
  try {
    return await create();
  } finally {
    signals.forEach((signal, i) => {
      for (const listener of process.listeners(signal)) {
        if (!before[i]!.has(listener)) process.removeListener(signal, listener);
      }
    });
  }
}

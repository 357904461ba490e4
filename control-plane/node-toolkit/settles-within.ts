/**
 * Whether `promise` settles (either way) within `ms`. For the graceful half of a close
 * whose peer may never answer (a NATS drain, a Redis QUIT): the caller falls back to
 * the hard close, so a process's stop is bounded whatever the peer does.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

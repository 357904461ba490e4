import { type ErrorCode, KaskadeError } from '@kaskade/protocol';

const byErrorName: Record<string, ErrorCode> = {
  TypeError: 'BAD_REQUEST', // mediasoup's verdict on malformed parameters
  UnsupportedError: 'BAD_REQUEST',
  InvalidStateError: 'INVALID_STATE',
  NotFoundError: 'NOT_FOUND',
  WorkerClosedError: 'UNAVAILABLE',
};

/**
 * A request the mediasoup worker refused (its MediaSoupError reaches us as a plain Error
 * raised by the channel): the worker judged the parameters the client sent, e.g. an SSRC
 * taken already. The client's doing, not ours.
 */
function refusedByWorker(error: Error): boolean {
  return error.name === 'Error' && /[\\/]mediasoup[\\/]node[\\/]lib[\\/]Channel\.js/.test(error.stack ?? '');
}

/** Maps anything thrown while handling a request to the error a client is sent. */
export function toKaskadeError(error: unknown): KaskadeError {
  if (error instanceof KaskadeError) return error;
  if (error instanceof Error) {
    const code = byErrorName[error.name] ?? (refusedByWorker(error) ? 'BAD_REQUEST' : undefined);
    if (code) return new KaskadeError(code, error.message, { cause: error });
  }
  return new KaskadeError('INTERNAL', 'internal error', { cause: error });
}

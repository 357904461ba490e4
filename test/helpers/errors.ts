import { KaskadeError } from '@kaskade/protocol';
import { expect } from 'vitest';

/** The KaskadeError a promise rejects with (the test fails if it resolves or rejects otherwise). */
export async function rejection(promise: Promise<unknown>): Promise<KaskadeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KaskadeError);
  return error as KaskadeError;
}

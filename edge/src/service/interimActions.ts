import type { BreakoutActions } from '@kaskade/protocol';
import { KaskadeError } from '@kaskade/protocol';
import type { Handler } from './requestHandlers.ts';

// INTERIM, until the action plumbing (edge forwarding over ControlRpc 'room.act') is merged:
// it replaces this file by one generic entry per action name. Until then a moderator's
// breakout action over signaling is refused as not yet served; a non-moderator's as FORBIDDEN.
const refuse = async (s: Parameters<Handler<'closeBreakouts'>>[0]): Promise<never> => {
  if (!s.participant.grants.moderate)
    throw new KaskadeError('FORBIDDEN', 'room actions need the moderate grant');
  throw new KaskadeError('UNAVAILABLE', 'room actions are not served by this edge yet');
};

export const interimBreakoutActions: { [M in keyof typeof BreakoutActions]: Handler<M> } = {
  createBreakouts: refuse,
  assignBreakouts: refuse,
  openBreakouts: refuse,
  broadcastToBreakouts: refuse,
  closeBreakouts: refuse,
};

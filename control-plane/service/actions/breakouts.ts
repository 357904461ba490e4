import type { BreakoutActions } from '@kaskade/protocol';
import type { ActionHandlers } from './types.ts';

/** The breakout actions (protocol/breakouts.ts), executed by the control plane. */
export const breakoutActionHandlers: ActionHandlers<keyof typeof BreakoutActions> = {};

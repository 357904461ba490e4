import type { ChatActions } from '@kaskade/protocol';
import type { ActionHandlers } from './types.ts';

/** The chat actions (protocol/chat.ts), executed by the control plane. */
export const chatActionHandlers: ActionHandlers<keyof typeof ChatActions> = {};

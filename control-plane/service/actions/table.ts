import type { RoomActionName } from '@kaskade/protocol';
import { breakoutActionHandlers } from './breakouts.ts';
import { chatActionHandlers } from './chat.ts';
import { moderationActionHandlers } from './moderation.ts';
import type { ActionHandlers } from './types.ts';

/** Every room action's handler: one per name of RoomActions, or this does not type-check. */
export const roomActionHandlers: ActionHandlers<RoomActionName> = {
  ...moderationActionHandlers,
  ...chatActionHandlers,
  ...breakoutActionHandlers,
};

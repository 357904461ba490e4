import type { ModerationActions } from '@kaskade/protocol';
import type { ActionHandlers } from './types.ts';

/** The moderation actions (protocol/moderation.ts), executed by the control plane. */
export const moderationActionHandlers: ActionHandlers<keyof typeof ModerationActions> = {};

// The chat's limits and names as plain constants (no schema library): the browser SDK
// imports them from the `./browser` entry, the schemas of chat.ts are made of them.

/** The room chat: always there, open to everyone the room's policy lets chat. */
export const GENERAL_CHANNEL = 'general';
/** The longest message text (characters); an edge may be configured to take less. */
export const MAX_CHAT_TEXT = 2000;
/** Channels one room may have, `general` included. */
export const MAX_CHAT_CHANNELS = 20;
/** Identities one channel may list as its members. */
export const MAX_CHANNEL_MEMBERS = 500;
/** The most messages one chatHistory answer holds. */
export const MAX_CHAT_PAGE = 200;

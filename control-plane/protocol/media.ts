import Type, { type Static } from 'typebox';

/** What a producer carries, from the participant's point of view. */
export const Source = Type.Union([
  Type.Literal('camera'),
  Type.Literal('microphone'),
  Type.Literal('screen'),
  Type.Literal('screen_audio'),
]);
export type Source = Static<typeof Source>;
export const Sources: readonly Source[] = ['camera', 'microphone', 'screen', 'screen_audio'];

export const MediaKind = Type.Union([Type.Literal('audio'), Type.Literal('video')]);
export type MediaKind = Static<typeof MediaKind>;

/** The kind a source must have; a mismatch is refused at produce time. */
export const kindOfSource: Record<Source, MediaKind> = {
  camera: 'video',
  microphone: 'audio',
  screen: 'video',
  screen_audio: 'audio',
};

/**
 * A name that is safe as one NATS subject token and inside a Redis key: letters,
 * digits, '_' and '-' only (no '.', '*', '>', whitespace or braces), bounded. Rooms,
 * nodes and regions are named with it, because each of them becomes a subject token.
 */
export const SafeName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
/** Identifiers (identities, participant and producer ids): opaque, bounded, subject- and key-safe. */
export const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_:@-]+$' });
export const RoomName = SafeName;
export const NodeId = SafeName;
export const Region = SafeName;
export const DisplayName = Type.String({ minLength: 1, maxLength: 80 });

/**
 * Control characters (C0, C1) and the invisible bidi controls (embeddings, overrides,
 * isolates, marks) that can make a name render as something else. Zero-width joiners
 * stay: emoji sequences need them.
 */
const UNSAFE_IN_NAMES = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;

/** A display name as others will see it: unsafe characters removed, whitespace trimmed. */
export function cleanDisplayName(name: string): string {
  return name.replace(UNSAFE_IN_NAMES, '').trim();
}

/** Stage may publish; audience only watches (no send transport) until a moderator promotes it. */
export const Role = Type.Union([Type.Literal('stage'), Type.Literal('audience')]);
export type Role = Static<typeof Role>;

import Type from 'typebox';

/**
 * The rules for names, defined once. A safe name becomes one NATS subject token and part
 * of a Redis key: letters, digits, '_' and '-' only (no '.', '*', '>', whitespace or
 * braces), bounded. Rooms, nodes and regions are named with it, because each of them
 * becomes a subject token.
 */
const SAFE_NAME_CHARACTERS = 'A-Za-z0-9_-';
const NAME_MAX_LENGTH = 64;
/** One safe name as a regular expression source, unanchored, for patterns made of names. */
export const SAFE_NAME_PATTERN = `[${SAFE_NAME_CHARACTERS}]{1,${NAME_MAX_LENGTH}}`;
/** Identities, participant and producer ids may also carry ':' and '@' (urn:x, user@org). */
const ID_CHARACTERS = 'A-Za-z0-9_:@-';

export const SafeName = Type.String({
  minLength: 1,
  maxLength: NAME_MAX_LENGTH,
  pattern: `^[${SAFE_NAME_CHARACTERS}]+$`,
});
/** Identifiers (identities, participant and producer ids): opaque, bounded, subject- and key-safe. */
export const Id = Type.String({ minLength: 1, maxLength: NAME_MAX_LENGTH, pattern: `^[${ID_CHARACTERS}]+$` });
export const RoomName = SafeName;
export const NodeId = SafeName;
export const Region = SafeName;
export const DisplayName = Type.String({ minLength: 1, maxLength: 80 });

const UNSAFE_NAME_CHARACTER = new RegExp(`[^${SAFE_NAME_CHARACTERS}]`, 'g');

/**
 * Any text made into a safe name: every other character replaced by `replacement` ('' drops
 * it), cut to `maxLength`. Empty when nothing is left: the caller picks its fallback.
 */
export function toSafeName(text: string, { replacement = '-', maxLength = NAME_MAX_LENGTH } = {}): string {
  return text.replace(UNSAFE_NAME_CHARACTER, replacement).slice(0, Math.min(maxLength, NAME_MAX_LENGTH));
}

/**
 * Control characters (C0, C1) and the invisible bidi controls (embeddings, overrides,
 * isolates, marks) that can make a name render as something else. Zero-width joiners
 * stay: emoji sequences need them.
 */
const UNSAFE_IN_DISPLAY_NAMES = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;

/** A display name as others will see it: unsafe characters removed, whitespace trimmed. */
export function cleanDisplayName(name: string): string {
  return name.replace(UNSAFE_IN_DISPLAY_NAMES, '').trim();
}

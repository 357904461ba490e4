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

/** Stage may publish; audience only watches (no send transport) until a moderator promotes it. */
export const Role = Type.Union([Type.Literal('stage'), Type.Literal('audience')]);
export type Role = Static<typeof Role>;

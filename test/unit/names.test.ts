import { cleanDisplayName, Id, RoomName, SAFE_NAME_PATTERN, SafeName, toSafeName } from '@kaskade/protocol';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';

const safe = Compile(SafeName);
const room = Compile(RoomName);
const id = Compile(Id);

describe('names that become NATS subject tokens and Redis keys', () => {
  it('accepts letters, digits, _ and -', () => {
    for (const name of ['demo', 'Room_42', 'edge-eu-1', 'a', 'x'.repeat(64)])
      expect(safe.Check(name)).toBe(true);
  });

  it('refuses subject separators, wildcards, whitespace, hash-tag braces and unbounded length', () => {
    for (const name of [
      'a.b',
      '..',
      'a*',
      '>',
      'a b',
      'a\tb',
      'a\nb',
      '{a}',
      '',
      'x'.repeat(65),
      'é',
      'a/b',
    ]) {
      expect(safe.Check(name), JSON.stringify(name)).toBe(false);
      expect(room.Check(name), JSON.stringify(name)).toBe(false);
    }
  });

  it('identities may carry @ and : but no dot, wildcard or whitespace', () => {
    expect(id.Check('ada@uni')).toBe(true);
    expect(id.Check('urn:ada')).toBe(true);
    for (const bad of ['ada@uni.edu', 'a*', 'a>', 'a b', '', 'x'.repeat(65)])
      expect(id.Check(bad)).toBe(false);
  });
});

describe('making text a safe name', () => {
  it('replaces or drops every other character and bounds the length', () => {
    expect(toSafeName('edge-1.eu.example.org')).toBe('edge-1-eu-example-org');
    expect(toSafeName('Zoë O’Neil', { replacement: '' })).toBe('ZoONeil');
    expect(toSafeName('x'.repeat(100))).toHaveLength(64);
    expect(toSafeName('abcdef', { maxLength: 3 })).toBe('abc');
    expect(toSafeName('...', { replacement: '' })).toBe('');
    for (const text of ['a b', 'é{}*>', 'node.local', 'x'.repeat(80)]) {
      const name = toSafeName(text);
      expect(safe.Check(name), name).toBe(true);
    }
  });

  it('the unanchored pattern matches exactly one safe name', () => {
    const one = new RegExp(`^${SAFE_NAME_PATTERN}$`);
    for (const name of ['demo', 'edge-eu-1', 'x'.repeat(64)]) expect(one.test(name)).toBe(true);
    for (const name of ['', 'a.b', 'x'.repeat(65), 'a b']) expect(one.test(name)).toBe(false);
  });
});

describe('display names', () => {
  it('keeps ordinary names, accents and emoji sequences', () => {
    expect(cleanDisplayName('Ada Lovelace')).toBe('Ada Lovelace');
    expect(cleanDisplayName('Zoë Ø')).toBe('Zoë Ø');
    expect(cleanDisplayName('👩‍💻 dev')).toBe('👩‍💻 dev');
  });

  it('strips NUL, newlines, other control characters and bidi overrides', () => {
    expect(cleanDisplayName('Ada\u0000\nLovelace\r')).toBe('AdaLovelace');
    expect(cleanDisplayName('\u202Egnp.exe')).toBe('gnp.exe');
    expect(cleanDisplayName('a\u2066b\u2069c\u200F\u0085')).toBe('abc');
    expect(cleanDisplayName('\u0007\u202D ')).toBe('');
  });
});

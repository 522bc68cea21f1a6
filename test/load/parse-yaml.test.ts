import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../src/load/parse-yaml.js';

const parse = (text: string | Buffer, limit = 65536) =>
  parseYaml('f.yaml', typeof text === 'string' ? Buffer.from(text) : text, limit);
const codes = (text: string | Buffer) =>
  parse(text).diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`);

describe('parseYaml', () => {
  it('returns the mapping of a plain file', () => {
    expect(parse('user: alice\npermissions: [a, b]\n').value).toEqual({
      user: 'alice',
      permissions: ['a', 'b'],
    });
  });

  it('keeps dates as text (YAML 1.2 core schema)', () => {
    expect(parse('start: 2026-12-01\n').value).toEqual({ start: '2026-12-01' });
  });

  it('strips a byte-order mark', () => {
    expect(parse('\ufeffuser: alice\n').value).toEqual({ user: 'alice' });
  });

  it('allows a few aliases but stops a billion laughs', () => {
    expect(codes('a: &x [1]\nb: *x\nc: *x\n')).toEqual([]);
    const bomb = `a: &a [x,x,x,x,x,x,x,x]\n${Array.from(
      { length: 6 },
      (_, i) =>
        `l${i}: &l${i} [${Array(4)
          .fill(i === 0 ? '*a' : `*l${i - 1}`)
          .join(',')}]`,
    ).join('\n')}\n`;
    expect(codes(bomb)).toEqual(['6:10 too-many-aliases']);
  });

  it('rejects __proto__, constructor and prototype as keys but not as values', () => {
    expect(codes('reason: talk to the constructor team about __proto__\n')).toEqual([]);
    expect(codes('a:\n  constructor: 1\n  __proto__: 2\n')).toEqual([
      '2:3 forbidden-key',
      '3:3 forbidden-key',
    ]);
  });

  it('reports unknown tags instead of ignoring them', () => {
    expect(codes('user: !secret alice\n')).toEqual(['1:7 yaml-syntax']);
  });

  it('reports oversized files without parsing them', () => {
    expect(parse(`reason: ${'x'.repeat(100)}\n`, 64).diagnostics[0]?.code).toBe('file-too-large');
    const big = Buffer.alloc(16 * 1024 * 1024 + 1, 0x20);
    expect(parseYaml('grants/_people.yaml', big, 16 * 1024 * 1024).diagnostics[0]?.message).toBe(
      'the file is larger than 16 MiB, the most iden reads; split it, or keep what is not access data elsewhere',
    );
    expect(parseYaml('grants/db/alice.yaml', big, 64 * 1024).diagnostics[0]?.message).toBe(
      'the file is larger than 64 KiB, the most iden reads; a grant file is a few lines',
    );
  });

  it('locates the first byte that is not UTF-8', () => {
    expect(codes(Buffer.from([0x61, 0x3a, 0x20, 0x62, 0x0a, 0x63, 0x3a, 0x20, 0xc3, 0x28, 0x0a]))).toEqual([
      '2:4 not-utf8',
    ]);
  });

  it('reports a comment-only file as empty and a scalar top as not a mapping', () => {
    expect(codes('# only a comment\n')).toEqual(['1:1 empty-file']);
    expect(codes('\n\njust text\n')).toEqual(['3:1 not-a-mapping']);
  });

  it('reports an unterminated flow list with its position, without throwing', () => {
    expect(codes('permissions: [a, b\n').length).toBeGreaterThan(0);
    expect(parse('permissions: [a, b\n').value).toBeUndefined();
  });
});

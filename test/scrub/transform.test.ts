import { describe, expect, it } from 'vitest'
import { Scrubber } from '../../src/scrub/scrubber.js'
import { joinTransformPath, renderPathSegment } from '../../src/scrub/transform.js'

describe('transform paths', () => {
  it('renders indexes in brackets, identifiers bare, other keys quoted, and the key $ quoted', () => {
    expect(renderPathSegment(3)).toBe('[3]')
    expect(renderPathSegment('email')).toBe('email')
    expect(renderPathSegment('$class')).toBe('$class')
    expect(renderPathSegment('content-type')).toBe('content-type')
    expect(renderPathSegment('a b')).toBe('["a b"]')
    expect(renderPathSegment('1st')).toBe('["1st"]')
    expect(renderPathSegment('')).toBe('[""]')
    expect(renderPathSegment('$')).toBe('["$"]')
    expect(renderPathSegment('say "hi"')).toBe('["say \\"hi\\""]')
  })

  it('joins a path below a prefix; $ and the empty path are the prefix itself', () => {
    expect(joinTransformPath('fields', 'user.email')).toBe('fields.user.email')
    expect(joinTransformPath('fields', '[0].token')).toBe('fields[0].token')
    expect(joinTransformPath('fields', '["a b"]')).toBe('fields["a b"]')
    expect(joinTransformPath('msg', '$')).toBe('msg')
    expect(joinTransformPath('msg', '')).toBe('msg')
    expect(joinTransformPath('', 'email')).toBe('email')
    expect(joinTransformPath('', '[0]')).toBe('[0]')
  })

  it('are the paths the walker records', () => {
    const { transforms } = new Scrubber().scrub({ $: { x: 'ada@example.com' }, list: [{ 'a b': 'ada@example.com' }] })
    expect(transforms.map((t) => t.path)).toEqual([
      joinTransformPath(renderPathSegment('$'), 'x'),
      joinTransformPath(joinTransformPath(joinTransformPath('', 'list'), renderPathSegment(0)), renderPathSegment('a b')),
    ])
    expect(transforms.map((t) => t.path)).toEqual(['["$"].x', 'list[0]["a b"]'])
  })
})

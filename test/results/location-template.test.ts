import { describe, expect, it } from 'vitest'
import { TemplateKeyError } from '../../src/errors.js'
import { LocationTemplate } from '../../src/results/location-template.js'

function keyError(run: () => unknown): TemplateKeyError {
  try {
    run()
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateKeyError)
    return err as TemplateKeyError
  }
  throw new Error('expected a TemplateKeyError')
}

describe('LocationTemplate', () => {
  const context = {
    flowName: 'etl',
    taskName: 'load',
    taskRunId: 'tr-1',
    flowRunId: 'fr-1',
    mapIndex: 3,
    parameters: { region: 'eu', nested: { depth: 2 } },
  }

  it('fills runtime keys, dotted parameter lookups and any other key', () => {
    const template = new LocationTemplate('{flowName}/{flowRunId}/{taskName}-{taskRunId}-{mapIndex}/{parameters.region}/{parameters.nested.depth}/{custom}.json')
    expect(template.format({ ...context, custom: true })).toBe('etl/fr-1/load-tr-1-3/eu/2/true.json')
    expect(template.source).toContain('{flowName}')
  })

  it('reads {{ and }} as literal braces', () => {
    expect(new LocationTemplate('{{x}}/{taskName}').format(context)).toBe('{x}/load')
  })

  it('provides {today}, {date} and {randomId} when the context does not', () => {
    const out = new LocationTemplate('{today}|{date}|{randomId}|{randomId}').format({})
    const [today, date, a, b] = out.split('|')
    expect(today).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    expect(date).toMatch(/^\d{8}T\d{6}Z$/)
    expect(date?.slice(0, 8)).toBe(today?.replaceAll('-', ''))
    expect(a).toMatch(/^[0-9a-f-]{36}$/)
    expect(a).not.toBe(b)
  })

  it('lets the context override the built-in keys', () => {
    expect(new LocationTemplate('{date}/{today}').format({ date: '2026-11-21', today: 'x' })).toBe('2026-11-21/x')
  })

  it('writes Dates as ISO-8601 and bigints as digits', () => {
    expect(new LocationTemplate('{at}-{n}').format({ at: new Date(0), n: 12n })).toBe('1970-01-01T00:00:00.000Z-12')
  })

  it('has the documented default location', () => {
    const template = LocationTemplate.default('json')
    expect(template.source).toBe('{today}/{randomId}.json')
    expect(template.format()).toMatch(/^\d{4}-\d{2}-\d{2}\/[0-9a-f-]{36}\.json$/)
  })

  describe('values fill one path segment at most', () => {
    it.each([
      ['a/b', 'a%2Fb'],
      ['../../etc', '..%2F..%2Fetc'],
      ['..', '%2E%2E'],
      ['.', '%2E'],
      ['a\\..\\b', 'a%5C..%5Cb'],
      ['nul\u0000byte', 'nul%00byte'],
      ['new\nline', 'new%0Aline'],
      ['50%', '50%25'],
      ['v1.2..3', 'v1.2..3'],
    ])('%j becomes %j', (value, expected) => {
      expect(new LocationTemplate('x/{v}/y').format({ v: value })).toBe(`x/${expected}/y`)
    })

    it('keeps literal template text as written', () => {
      expect(new LocationTemplate('../{v}').format({ v: 'a' })).toBe('../a')
    })
  })

  describe('unknown keys', () => {
    it('raise ERR_TEMPLATE_KEY_UNKNOWN listing the available keys, names only', () => {
      const err = keyError(() => new LocationTemplate('{flowName}/{tasknmae}.json').format({ flowName: 'etl', taskName: 'needle-value-x' }))
      expect(err.code).toBe('ERR_TEMPLATE_KEY_UNKNOWN')
      expect(err.key).toBe('tasknmae')
      expect(err.available).toEqual(['flowName', 'taskName', 'today', 'date', 'randomId'])
      expect(err.message).toContain('flowName, taskName, today, date, randomId')
      expect(err.message).not.toContain('needle-value-x')
      expect(err.message).not.toContain('etl')
    })

    it('list the keys at the level where a dotted lookup stopped', () => {
      const err = keyError(() => new LocationTemplate('{parameters.regoin}').format(context))
      expect(err.key).toBe('parameters.regoin')
      expect(err.available).toEqual(['parameters.region', 'parameters.nested'])
    })

    it('treat undefined and null values as missing', () => {
      const err = keyError(() => new LocationTemplate('{mapIndex}').format({ mapIndex: undefined, taskName: null, flowName: 'f' }))
      expect(err.available).toEqual(['flowName', 'today', 'date', 'randomId'])
    })

    it('never reach inherited properties', () => {
      keyError(() => new LocationTemplate('{constructor}').format({}))
      keyError(() => new LocationTemplate('{parameters.toString}').format({ parameters: {} }))
    })

    it('through a non-object list nothing under it', () => {
      expect(keyError(() => new LocationTemplate('{taskName.x}').format(context)).available).toEqual([])
    })
  })

  it.each([
    ['an object', { v: { a: 1 } }],
    ['an array', { v: ['a'] }],
    ['a function', { v: () => 'a' }],
    ['an empty string', { v: '' }],
    ['NaN', { v: Number.NaN }],
    ['an invalid Date', { v: new Date('x') }],
  ])('refuses %s as a value with ERR_INVALID_ARGUMENT', (_name, ctx) => {
    expect(() => new LocationTemplate('{v}').format(ctx)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })

  it.each([
    ['an unclosed brace', '{taskName/x', /unclosed \{ at offset 0/],
    ['a lone closing brace', 'a}b', /unmatched \} at offset 1/],
    ['an empty placeholder', 'a/{}', /malformed placeholder at offset 2/],
    ['a nested brace', '{a{b}}', /malformed placeholder/],
    ['a space in a name', '{task name}', /malformed placeholder/],
    ['an empty dotted step', '{parameters..x}', /malformed placeholder/],
    ['an empty template', '', /non-empty string/],
  ])('refuses %s at construction with ERR_INVALID_ARGUMENT', (_name, source, message) => {
    expect(() => new LocationTemplate(source)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(message) as unknown }))
  })
})

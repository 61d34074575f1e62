import { describe, expect, it } from 'vitest'
import { presets } from '../../src/policy/presets.js'
import { base62, bech32Valid, bech32WithChecksum, crc32, isPlaceholder, looksRandom, tokenChecksumValid } from '../../src/scrub/detector-checks.js'
import { Scrubber } from '../../src/scrub/scrubber.js'
import type { ScrubTransform } from '../../src/scrub/transform.js'

const scrubber = new Scrubber({ policy: { ...presets.balanced.scrub, maxStringLength: 1_000_000 } })

function rules(text: string): string[] {
  const transforms: ScrubTransform[] = []
  scrubber.scrubString(text, transforms)
  return transforms.map((t) => t.rule)
}

describe('validity checks', () => {
  it('crc32 is zlib\'s, and GitHub/npm checksums are its base62', () => {
    expect(crc32('123456789')).toBe(0xcbf43926)
    expect(base62(61, 2)).toBe('0z')
    const random = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5'
    const token = `ghp_${random}${base62(crc32(random), 6)}`
    expect(tokenChecksumValid(token, 4)).toBe(true)
    expect(tokenChecksumValid(`${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`, 4)).toBe(false)
  })

  it('bech32 accepts BIP 173 vectors and what bech32WithChecksum makes, and refuses a changed character', () => {
    expect(bech32Valid('A12UEL5L')).toBe(true)
    expect(bech32Valid('abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw')).toBe(true)
    expect(bech32Valid('A12UEL5M')).toBe(false)
    expect(bech32Valid('a12UEL5L')).toBe(false) // mixed case
    const key = bech32WithChecksum('age-secret-key-', 'qpzry9x8gf2tvdw0s3jn54khce6mua7lqpzry9x8gf2tvdw0s3jn5')
    expect(bech32Valid(key.toUpperCase())).toBe(true)
  })

  it('the entropy gate passes random keys and refuses placeholders', () => {
    expect(looksRandom('bP88Q~rcBcYjzzOhg1Hnn76Wm3jGgakZiZ.8vMgR', 0, 40, 3)).toBe(true)
    expect(looksRandom('bP88Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 0, 40, 3)).toBe(false)
  })
})

describe('placeholders, by class', () => {
  it.each([
    ['$API_KEY'], ['${NPM_TOKEN}'], ['${{ secrets.DEPLOY }}'], ['$(cat token.txt)'], ['{{ .Values.pw }}'], ['%DB_PW%'], ['%(password)s'],
    ['<your token>'], ['[PASSWORD]'], ['@db.password@'], ['#{pw}'], ['XXXXXXXXXXXX'], ['xxxx-xxxx'], ['********'], ['...'],
    ['null'], ['string'], ['your_password'], ['somefakekey'], ['$1'],
  ])('%s is a placeholder', (value) => {
    expect(isPlaceholder(value, true)).toBe(true)
  })

  it.each([['hunter22'], ['${PW:-hunter2}'], ['m{{h}o)p${e]nob(ody[finds>-_$#thisone}}'], ['g7Gw22YM(Q<)'], ['changeme2024!']])('%s is not', (value) => {
    expect(isPlaceholder(value, false)).toBe(false)
  })

  it('only unquoted code reads as code', () => {
    expect(isPlaceholder('env.DB_PASSWORD', false)).toBe(true)
    expect(isPlaceholder('os.getenv("TOKEN")', false)).toBe(true)
    expect(isPlaceholder('env.DB_PASSWORD', true)).toBe(false)
  })

  it('example words are placeholders only where an example is expected', () => {
    expect(isPlaceholder('changeme', true)).toBe(false)
    expect(isPlaceholder('changeme', true, true)).toBe(true)
  })

  it('leaves variables whole in every detector that reads a value: never mangled', () => {
    for (const text of [
      '//registry.npmjs.org/:_authToken=${NPM_TOKEN}',
      'Authorization: Bearer $API_KEY',
      'Authorization: Bearer ${{ secrets.TOKEN }}',
      'curl -u "$USER:$PASS" https://x',
      'password: {{ .Values.password }}',
      'DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app',
      'Server=db;Password=${DB_PASSWORD};',
    ]) {
      expect(scrubber.scrubString(text), text).toBe(text)
    }
  })
})

describe('secret-assignment leaves no part of a value behind', () => {
  const value = 'Zq7-pW2x Lm9'
  it.each([
    [`password = "${value}"`],
    [`token := '${value}'`],
    [`"api_key" => "${value}"`],
    [`secret = @"${value}";`],
    [`{"password": {"$eq": "${value}"}}`],
    [`{"password": {"$in": ["${value}", "b"]}}`],
    [`password:\n  "${value}"`],
    [`<password>${value}</password>`],
    [`if ("${value}" == password) {}`],
    [`Authorization: Api-Token ${value.replace(' ', '')}`],
    [`Password=${value};Database=x`],
    [`{\\"password\\":\\"${value}\\"}`],
  ])('%s', (text) => {
    const out = scrubber.scrubString(text)
    for (const part of value.split(' ')) expect(out, `${text} -> ${out}`).not.toContain(part)
  })

  it('names that merely mention a secret are not assignments', () => {
    for (const text of ['LLM_SECRET_NAME=openai', 'secret_length=32', 'credentialsId: ci', 'passwordLabel="Password"', 'PWD=/srv/app', 'session_timeout=30']) {
      expect(rules(text), text).toEqual([])
    }
    expect(rules('session_id=abc123def')).toEqual(['secret-assignment'])
    expect(rules('MYSQL_PWD=hunter22')).toEqual(['secret-assignment'])
  })
})

describe('the newer detectors on what they must leave alone', () => {
  it.each([
    ['a JWT header with no payload', 'header eyJhbGciOiJIUzI1NiJ9 only'],
    ['a JWT whose payload is not JSON', 'eyJ0eXAiOiAiVENWMiJ9.RkNWLXdXS3M1RVBfencxM4A0WmJzdVlCQzFj.OGY1OWRkNGMtYTUxYS04ZDYw'],
    ['a broadcast MAC', 'mac FF:FF:FF:FF:FF:FF'],
    ['an SSN with a zero group', 'id 078-00-1123'],
    ['an SSN with mixed separators', 'id 693-09.4444'],
    ['dates, times and versions', 'at 2026-11-21 10:30:45 version 1.2.3 build 20261121'],
    ['nine bare digits with no context', 'rows 123456781 loaded'],
    ['a machine in prose', 'the machine password policy changed'],
    ['curl with no password', 'curl -u "myusername" http://localhost:15130/'],
  ])('%s', (_what, text) => {
    expect(scrubber.scrubString(text)).toBe(text)
  })
})

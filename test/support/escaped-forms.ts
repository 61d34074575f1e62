/*
 * Escape sequences and encodings shared by the scrubber's and the leak
 * scan's tests: both must see through the same ones.
 */
import { LocationTemplate } from '../../src/results/location-template.js'

/**
 * Escape sequences as they appear in text (a backslash is one character),
 * each put right before a token in the tests: every one must read as a
 * boundary.
 */
export const ESCAPES_BEFORE_A_TOKEN: readonly string[] = [
  '\\n',
  '\\t',
  '\\r',
  '\\b',
  '\\f',
  '\\"',
  '\\/',
  '\\u0020', // a space
  '\\u000a',
  '\\u0022',
  '\\u0041', // a letter
  '\\u00e9', // a letter outside ASCII
  '\\u{1F600}',
  '\\U0001F600', // Python, Go
  '\\a',
  '\\x22',
  '\\x41',
  '%22',
  '%0A',
  '%20',
  '%41',
  '%c3%a9',
  '%u00E9',
  '\\\\n', // JSON in JSON
  '\\\\\\\\n', // JSON in JSON in JSON
  '\\\\u0041',
  '%5Cn', // JSON in a URL
  '%2541', // a URL in a URL
]

/** Ways to escape one ASCII character: JSON, JavaScript and percent escapes. */
export const CHARACTER_ESCAPES: readonly ((code: number) => string)[] = [
  (code) => `\\u${code.toString(16).padStart(4, '0')}`,
  (code) => `\\x${code.toString(16).padStart(2, '0')}`,
  (code) => `%${code.toString(16).toUpperCase().padStart(2, '0')}`,
]

/** `secret` with its first and middle characters escaped by `escape`: what no encoder writes, but text may hold. */
export function withEscapedCharacters(secret: string, escape: (code: number) => string): string {
  const middle = secret.length >> 1
  return escape(secret.charCodeAt(0)) + secret.slice(1, middle) + escape(secret.charCodeAt(middle)) + secret.slice(middle + 1)
}

/** `text` inside a JSON document, as a log message carrying serialized JSON holds it. */
export function inJson(escape: string, value: string): string {
  // The value is JSON-escaped too: a PEM block's line breaks become \n.
  return `{"level":"info","msg":"response body: ok${escape}${JSON.stringify(value).slice(1, -1)} (200)","n":1}`
}

/** Registered secrets whose encodings differ from them in every way the tests look at. */
export const AWKWARD_SECRETS: readonly string[] = [
  'a+b/c=d+e/f==', // base64: '/' is encoded by a location template, '+' and '=' are not
  "p@ss w0rd+/=!'()*~", // what URLSearchParams encodes and encodeURIComponent does not
  'user@host:pa ss', // '@' and ':' in a URL's userinfo
  'Ünïcödé-sëcret-€-😀', // 2-, 3- and 4-byte UTF-8
  'q"uo\\te\'d <tag> & #x;', // JSON and HTML metacharacters
  'plain-Secret-Value-123',
]

/** One way a platform or the SDK writes a string, and the context it is found in. */
export interface SecretEncoder {
  readonly name: string
  /** The encoded secret alone. */
  readonly encode: (secret: string) => string
  /** The text around it, where `%s` stands for the encoded secret. */
  readonly context: string
}

function lowerHex(text: string): string {
  return text.replace(/%(u[0-9A-F]{4}|[0-9A-F]{2})/g, (hex) => hex.toLowerCase())
}

// Upper-case hex, then lower-case, in turn.
function mixedHex(text: string): string {
  let k = 0
  return text.replace(/%[0-9A-F]{2}/g, (hex) => (k++ % 2 === 0 ? hex : hex.toLowerCase()))
}

function userinfo(secret: string, part: 'username' | 'password'): string {
  const url = new URL('https://h.example/')
  url[part] = secret
  return url[part]
}

/** The encoders of the platform (URL, JSON, escape) and of the SDK (location templates), alone and nested. */
export const SECRET_ENCODERS: readonly SecretEncoder[] = [
  { name: 'as is', encode: (s) => s, context: 'dsn %s ok' },
  { name: 'encodeURIComponent', encode: encodeURIComponent, context: 'GET /login?pw=%s&x=1' },
  { name: 'encodeURIComponent, lower-case hex', encode: (s) => lowerHex(encodeURIComponent(s)), context: 'GET /login?pw=%s&x=1' },
  { name: 'encodeURIComponent, mixed-case hex', encode: (s) => mixedHex(encodeURIComponent(s)), context: 'GET /login?pw=%s&x=1' },
  { name: 'encodeURI', encode: encodeURI, context: 'GET https://h.example/%s HTTP/1.1' },
  { name: 'URLSearchParams', encode: (s) => new URLSearchParams({ k: s }).toString().slice(2), context: 'POST body k=%s&n=1' },
  { name: 'URL username', encode: (s) => userinfo(s, 'username'), context: 'connect https://%s@h.example/db' },
  { name: 'URL password', encode: (s) => userinfo(s, 'password'), context: 'connect https://app:%s@h.example/db' },
  { name: 'escape()', encode: escape, context: 'cookie pw=%s; path=/' },
  { name: 'escape(), lower-case hex', encode: (s) => lowerHex(escape(s)), context: 'cookie pw=%s; path=/' },
  {
    name: 'location template',
    encode: (s) => new LocationTemplate('{x}/a').format({ x: s }).slice(0, -'/a'.length),
    context: 'wrote s3://bucket/%s/a.json',
  },
  { name: 'JSON.stringify', encode: (s) => JSON.stringify(s).slice(1, -1), context: '{"pw":"%s"}' },
  { name: 'JSON.stringify twice', encode: (s) => JSON.stringify(JSON.stringify(s)).slice(3, -3), context: '{"msg":"{\\"pw\\":\\"%s\\"}"}' },
  { name: 'encodeURIComponent twice', encode: (s) => encodeURIComponent(encodeURIComponent(s)), context: 'next=%2Flogin%3Fpw%3D%s' },
  { name: 'JSON in a URL', encode: (s) => encodeURIComponent(JSON.stringify(s).slice(1, -1)), context: 'q=%7B%22pw%22%3A%22%s%22%7D' },
  { name: 'a URL in JSON', encode: (s) => JSON.stringify(encodeURIComponent(s)).slice(1, -1), context: '{"url":"https:\\/\\/h.example\\/?pw=%s"}' },
  {
    name: 'a form body in JSON',
    encode: (s) => JSON.stringify(new URLSearchParams({ k: s }).toString().slice(2)).slice(1, -1),
    context: '{"body":"k=%s&n=1"}',
  },
]

/**
 * `context` with the encoded secret in place of `%s`, and where the encoded
 * secret starts and ends in it.
 */
export function placed(encoder: SecretEncoder, secret: string): { text: string; start: number; end: number } {
  const encoded = encoder.encode(secret)
  const start = encoder.context.indexOf('%s')
  return { text: encoder.context.replace('%s', () => encoded), start, end: start + encoded.length }
}

import { CanonicalText, canonicalJson } from '../internal/canonical-json.js'

/**
 * An entry's canonical JSON members without `hash`, split where `hash`
 * goes: `head` holds the members that sort before it, `tail` those after,
 * each joined by commas (either may be empty). The ledger writes
 * `{head,"hash":…,tail}` and hashes `{head,tail}`. Internal to src/audit.
 *
 * @example
 * ```ts
 * const { head, tail } = entryMembers(body)   // head: '"channel":"logs","event":{…},"eventId":"e1"'
 * ```
 */
export interface EntryMembers {
  readonly head: string
  readonly tail: string
}

/**
 * {@link EntryMembers} of a ledger entry body: members whose value is
 * `undefined` are left out, strings and numbers are JSON, a
 * `CanonicalText` is its text, anything else goes through `canonicalJson`.
 * An event entry with exactly the members the ledger gives one is written
 * from one template (the same bytes, tested against the general path);
 * any other body takes the general path, which sorts its keys.
 *
 * @example
 * ```ts
 * const { head, tail } = entryMembers({ kind: 'delivery', eventIds: ['e1'], status: 'sent', v: 2, seq: 7, time, prev })
 * ```
 */
export function entryMembers(body: Readonly<Record<string, unknown>>): EntryMembers {
  return eventEntryMembers(body) ?? sortedMembers(body)
}

/**
 * The general path of {@link entryMembers}: every member, in sorted key order.
 *
 * @example
 * ```ts
 * sortedMembers({ v: 2, channel: 'logs' })   // { head: '"channel":"logs"', tail: '"v":2' }
 * ```
 */
export function sortedMembers(body: Readonly<Record<string, unknown>>): EntryMembers {
  const keys = Object.keys(body).sort()
  let head = ''
  let tail = ''
  for (const key of keys) {
    const value = body[key]
    if (value === undefined) continue
    const member = `${JSON.stringify(key)}:${memberJson(value, key)}`
    if (key < 'hash') head = head === '' ? member : `${head},${member}`
    else tail = tail === '' ? member : `${tail},${member}`
  }
  return { head, tail }
}

// The members of an event entry, in sorted order; `error` is there only for a failed delivery.
const EVENT_ENTRY_KEYS = new Set(['channel', 'error', 'event', 'eventId', 'kind', 'policyHash', 'prev', 'seq', 'status', 'time', 'transforms', 'v'])

// An event entry (the entry the ledger makes for every event) written from a template, without sorting its keys:
// only when the body has no member but these and each has the type the template writes. Else undefined.
function eventEntryMembers(body: Readonly<Record<string, unknown>>): EntryMembers | undefined {
  const { channel, error, event, eventId, kind, policyHash, prev, seq, status, time, transforms, v } = body
  if (
    kind !== 'event' ||
    typeof channel !== 'string' ||
    !(event instanceof CanonicalText) ||
    typeof eventId !== 'string' ||
    typeof policyHash !== 'string' ||
    typeof prev !== 'string' ||
    !Number.isSafeInteger(seq) ||
    typeof status !== 'string' ||
    typeof time !== 'string' ||
    !(transforms instanceof CanonicalText) ||
    !Number.isSafeInteger(v) ||
    !(error === undefined || error instanceof CanonicalText)
  ) {
    return undefined
  }
  for (const key in body) if (!EVENT_ENTRY_KEYS.has(key) && body[key] !== undefined) return undefined
  const errorMember = error === undefined ? '' : `"error":${error.text},`
  return {
    head: `"channel":${JSON.stringify(channel)},${errorMember}"event":${event.text},"eventId":${JSON.stringify(eventId)}`,
    tail:
      `"kind":"event","policyHash":${JSON.stringify(policyHash)},"prev":${JSON.stringify(prev)},"seq":${seq as number},` +
      `"status":${JSON.stringify(status)},"time":${JSON.stringify(time)},"transforms":${transforms.text},"v":${v as number}`,
  }
}

// A member's JSON: what the entry schema allows there (strings, numbers, canonical text made earlier) is written
// without a walk.
function memberJson(value: unknown, key: string): string {
  if (value instanceof CanonicalText) return value.text
  return typeof value === 'string' ? JSON.stringify(value) : canonicalJson(value, key)
}

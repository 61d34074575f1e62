/**
 * Bytes a vector can name by length alone: byte i is i mod 251 (a prime, so
 * no chunk boundary lines up with the pattern).
 *
 * @example
 * ```ts
 * patternBytes(3) // Uint8Array [0, 1, 2]
 * ```
 */
export function patternBytes(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => i % 251)
}

import { describe, expect, it } from 'vitest'
import { evaluate, TARGETS } from '../../bench/detectors.js'
import { corpus } from '../corpus/detector-corpus.js'

// The corpus's quality targets (bench/detectors.ts prints the same figures, with every miss).
describe('the detector corpus', () => {
  const score = evaluate()

  it('is a corpus: every case names its source, every positive holds its value', () => {
    const { positives, negatives } = corpus()
    expect(positives.length).toBeGreaterThanOrEqual(200)
    expect(negatives.length).toBeGreaterThanOrEqual(80)
    for (const c of [...positives, ...negatives]) expect(c.source, c.text).toMatch(/\S/)
    for (const c of positives) expect(c.text).toContain(c.secret)
  })

  it(`catches at least ${TARGETS.recall * 100}% of the sensitive values, and ${TARGETS.meanKindRecall * 100}% of each kind on average`, () => {
    expect(score.missed.map((c) => `${c.kind}: ${c.text}`)).toEqual([])
    expect(score.recall).toBeGreaterThanOrEqual(TARGETS.recall)
    expect(score.meanKindRecall).toBeGreaterThanOrEqual(TARGETS.meanKindRecall)
  })

  it(`flags at most ${TARGETS.falsePositiveRate * 100}% of the must-not-flag strings`, () => {
    expect(score.flagged.map((c) => `${c.kind}: ${c.text} -> ${c.output}`)).toEqual([])
    expect(score.falsePositiveRate).toBeLessThanOrEqual(TARGETS.falsePositiveRate)
  })

  it('leaves no part of a caught value behind', () => {
    expect(score.partial.map((c) => `${c.kind}: ${c.text}`)).toEqual([])
  })
})

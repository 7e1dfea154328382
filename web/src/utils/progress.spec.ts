import { describe, expect, it } from 'vitest'
import { describeFailure, estimateEta, summarize } from './progress'
import type { JobEvent } from '@/types'

let n = 0
const ev = (type: string, secs: number, data: Record<string, unknown> = {}, message = ''): JobEvent =>
  ({ id: ++n, ts: new Date(Date.UTC(2025, 0, 1, 0, 0, secs)).toISOString(), type, message, data })

describe('summarize', () => {
  it('is waiting until the job starts', () => {
    expect(summarize([]).phase).toBe('idle')
    expect(summarize([ev('queued', 0)]).phase).toBe('waiting')
  })

  it('tracks step, epoch, loss, F1 and an ETA from the step rate', () => {
    const s = summarize([
      ev('queued', 0), ev('started', 1), ev('start', 5),
      ev('progress', 15, { epoch: 0.1, step: 10, total: 100, loss: 2 }),
      ev('progress', 25, { epoch: 0.2, step: 20, total: 100, loss: 1.5 }),
      ev('eval', 26, { epoch: 0.2, step: 20, total: 100, f1: 0.4, accuracy: 0.5 }),
    ])
    expect(s).toMatchObject({ phase: 'running', step: 20, total: 100, epoch: 0.2, loss: 1.5, f1: 0.4, accuracy: 0.5 })
    expect(s.etaSeconds).toBeCloseTo(80 * 1.1, 5) // from the first measured step: 10 steps in 11 s incl. eval
  })

  it('ends complete with the final macro-F1', () => {
    const s = summarize([
      ev('started', 0), ev('progress', 5, { step: 4, total: 4, loss: 1 }),
      ev('complete', 6, { name: 'minilm-1', val_macro_f1: 0.71, val_accuracy: 0.8 }),
    ])
    expect(s).toMatchObject({ phase: 'complete', f1: 0.71, accuracy: 0.8, step: 4, etaSeconds: 0 })
  })

  it('explains failures, out-of-memory and cancellation', () => {
    expect(summarize([ev('error', 1, { state: 'failed', reason: 'oom' }, 'CUDA out of memory')]).failure)
      .toMatch(/ran out of memory/)
    expect(summarize([ev('error', 1, { state: 'cancelled' }, 'cancelled')]).phase).toBe('cancelled')
    expect(describeFailure({ message: 'Data file is empty: add rows', data: { state: 'failed' } }))
      .toBe('Data file is empty: add rows')
  })
})

describe('estimateEta', () => {
  it('needs progress to estimate', () => {
    expect(estimateEta({ ts: 0, step: 5 }, { ts: 1000, step: 5 }, 10)).toBeNull()
    expect(estimateEta({ ts: 0, step: 0 }, { ts: 2000, step: 5 }, 10)).toBe(2)
  })
})

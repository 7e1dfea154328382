import { describe, expect, it } from 'vitest'
import { describeFailure, secondsLeft, summarize } from './progress'
import type { JobEvent } from '@/types'

let n = 0
const ev = (type: string, secs: number, data: Record<string, unknown> = {}, message = ''): JobEvent =>
  ({ id: ++n, ts: new Date(Date.UTC(2025, 0, 1, 0, 0, secs)).toISOString(), type, message, data })

describe('summarize', () => {
  it('is waiting until the job starts', () => {
    expect(summarize([]).phase).toBe('idle')
    expect(summarize([ev('queued', 0)]).phase).toBe('waiting')
  })

  it("tracks step, epoch, loss, F1 and shows the server's estimated finish", () => {
    const finish = (secs: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, secs)).toISOString()
    const s = summarize([
      ev('queued', 0), ev('started', 1), ev('start', 5),
      ev('progress', 15, { epoch: 0.1, step: 10, total: 100, loss: 2, estimated_finish: finish(200) }),
      ev('progress', 25, { epoch: 0.2, step: 20, total: 100, loss: 1.5, estimated_finish: finish(105) }),
      ev('eval', 26, { epoch: 0.2, step: 20, total: 100, f1: 0.4, accuracy: 0.5 }),
    ])
    expect(s).toMatchObject({ phase: 'running', step: 20, total: 100, epoch: 0.2, loss: 1.5, f1: 0.4, accuracy: 0.5 })
    expect(s.etaSeconds).toBe(80) // as of the event that carried it; nothing computed here
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

describe('secondsLeft', () => {
  it('is null without an estimate and never negative', () => {
    expect(secondsLeft(ev('progress', 10, { step: 1, total: 10 }))).toBeNull()
    expect(secondsLeft(ev('progress', 10, { estimated_finish: '2025-01-01T00:00:05Z' }))).toBe(0)
  })
})

import { describe, expect, it } from 'vitest'
import { buildCurves, pointCount } from './curves'
import { ev } from '@/testing/fixtures'

/** A one-epoch run as the worker logs it: queued, started, 4 steps, an evaluation, complete. */
const RUN = [
  ev(1, 'queued'), ev(2, 'started'), ev(3, 'start', { model: 'minilm' }),
  ev(4, 'progress', { epoch: 0.25, step: 1, total: 4, loss: 1.6, learning_rate: 5e-5 }),
  ev(5, 'progress', { epoch: 0.5, step: 2, total: 4, loss: 1.4 }),
  ev(6, 'progress', { epoch: 0.75, step: 3, total: 4, loss: 1.1 }),
  ev(7, 'progress', { epoch: 1, step: 4, total: 4, loss: 0.9 }),
  ev(8, 'eval', { epoch: 1, step: 4, total: 4, f1: 0.42, accuracy: 0.5, loss: 1.2 }),
  ev(9, 'complete', { name: 'm1', version: 1, val_macro_f1: 0.42 }),
]

describe('buildCurves', () => {
  it('draws loss per step and validation macro-F1 / accuracy / loss per epoch', () => {
    const c = buildCurves(RUN)
    expect(c.loss).toEqual([{ x: 1, y: 1.6 }, { x: 2, y: 1.4 }, { x: 3, y: 1.1 }, { x: 4, y: 0.9 }])
    expect(c.f1).toEqual([{ x: 1, y: 0.42 }])
    expect(c.accuracy).toEqual([{ x: 1, y: 0.5 }])
    expect(c.evalLoss).toEqual([{ x: 1, y: 1.2 }])
    expect(c.total).toBe(4)
    expect(pointCount(c)).toBe(6)
  })

  it('rebuilds from a replayed log (after a reload, or GET .../log) exactly what the live stream drew', () => {
    const live = RUN.map((_, i) => buildCurves(RUN.slice(0, i + 1))) // redrawn as each event arrives
    expect(live.map(pointCount)).toEqual([0, 0, 0, 1, 2, 3, 4, 6, 6]) // the curves only grow
    const replayed = JSON.parse(JSON.stringify(RUN)) // the log as the API returns it
    expect(buildCurves(replayed)).toEqual(live.at(-1))
    for (let cut = 1; cut < RUN.length; cut++) { // a reload mid-run: a replay overlapping what was seen live
      expect(buildCurves([...RUN.slice(0, cut), ...RUN.slice(Math.max(0, cut - 2))])).toEqual(live.at(-1))
    }
  })

  it('keeps one point per step or epoch (the last value) and ignores events without numbers', () => {
    const c = buildCurves([
      ev(1, 'progress', { step: 2, loss: 1 }), ev(2, 'progress', { step: 1, loss: 2 }), ev(3, 'progress', { step: 2, loss: 0.5 }),
      ev(4, 'progress', { step: 3, loss: null }), ev(5, 'eval', { epoch: 1, f1: 'x' }), ev(6, 'log', { step: 9, loss: 9 }),
    ])
    expect(c.loss).toEqual([{ x: 1, y: 2 }, { x: 2, y: 0.5 }])
    expect(c.f1).toEqual([])
  })
})

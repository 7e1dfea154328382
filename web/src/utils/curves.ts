/**
 * A run's learning curves from its events: training loss per logged step and validation macro-F1 / accuracy (and
 * loss) per epoch. Built from the event list alone, so a replayed log after a reload draws the same curves as the
 * live stream did; a step or epoch seen twice keeps its last value.
 */
import type { JobEvent } from '@/types'

export interface Point { x: number; y: number }

export interface RunCurves {
  loss: Point[]
  f1: Point[]
  accuracy: Point[]
  evalLoss: Point[]
  /** Optimizer steps of the whole run, once the first progress event said so. */
  total: number | null
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

function put(series: Map<number, number>, x: number | null, y: number | null) {
  if (x != null && y != null) series.set(x, y)
}

const sorted = (series: Map<number, number>): Point[] =>
  [...series].map(([x, y]) => ({ x, y })).sort((a, b) => a.x - b.x)

export function buildCurves(events: readonly JobEvent[]): RunCurves {
  const loss = new Map<number, number>()
  const f1 = new Map<number, number>()
  const accuracy = new Map<number, number>()
  const evalLoss = new Map<number, number>()
  let total: number | null = null
  for (const ev of events) {
    const d = ev.data ?? {}
    if (ev.type === 'progress') {
      put(loss, num(d.step), num(d.loss))
      total = num(d.total) ?? total
    } else if (ev.type === 'eval') {
      const epoch = num(d.epoch)
      put(f1, epoch, num(d.f1))
      put(accuracy, epoch, num(d.accuracy))
      put(evalLoss, epoch, num(d.loss))
      total = num(d.total) ?? total
    }
  }
  return { loss: sorted(loss), f1: sorted(f1), accuracy: sorted(accuracy), evalLoss: sorted(evalLoss), total }
}

/** How many points a run has drawn so far (the e2e watches it grow). */
export const pointCount = (c: RunCurves) => c.loss.length + c.f1.length + c.accuracy.length

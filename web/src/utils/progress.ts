/**
 * Derives a run's progress, metrics and failure text from its events, so a replayed log gives the same view. The ETA
 * is the server's: each progress event carries the worker's `estimated_finish` (shared/progress.py), shown as is.
 */
import type { JobEvent } from '@/types'

export type RunPhase = 'idle' | 'waiting' | 'running' | 'complete' | 'failed' | 'cancelled'

export interface RunSummary {
  phase: RunPhase
  epoch: number | null
  step: number | null
  total: number | null
  loss: number | null
  f1: number | null
  accuracy: number | null
  etaSeconds: number | null
  failure: string | null
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
const time = (ev: JobEvent) => Date.parse(ev.ts)

/** Seconds from an event to the server's `estimated_finish` it carries; null when it carries none. */
export function secondsLeft(ev: JobEvent): number | null {
  const finish = ev.data?.estimated_finish
  const ms = typeof finish === 'string' ? Date.parse(finish) - time(ev) : NaN
  return Number.isFinite(ms) ? Math.max(0, ms / 1000) : null
}

/** One readable sentence for a terminal `error` event. */
export function describeFailure(ev: Pick<JobEvent, 'message' | 'data'>): string {
  const data = ev.data ?? {}
  if (data.state === 'cancelled') return 'The job was cancelled.'
  if (data.reason === 'oom' || /out of memory|\boom\b/i.test(ev.message ?? '')) {
    return 'Training ran out of memory: pick a smaller model (minilm) or fewer max tokens, then run again.'
  }
  return ev.message || 'The job failed without a message; see the worker log.'
}

export function summarize(events: JobEvent[]): RunSummary {
  const s: RunSummary = {
    phase: events.length ? 'waiting' : 'idle', epoch: null, step: null, total: null,
    loss: null, f1: null, accuracy: null, etaSeconds: null, failure: null,
  }
  for (const ev of events) {
    const d = ev.data ?? {}
    if (ev.type === 'started' || ev.type === 'start') {
      s.phase = 'running'
    } else if (ev.type === 'progress' || ev.type === 'eval') {
      s.phase = 'running'
      s.epoch = num(d.epoch) ?? s.epoch
      s.step = num(d.step) ?? s.step
      s.total = num(d.total) ?? s.total
      if (ev.type === 'progress') s.loss = num(d.loss) ?? s.loss
      else { s.f1 = num(d.f1) ?? s.f1; s.accuracy = num(d.accuracy) ?? s.accuracy }
      s.etaSeconds = secondsLeft(ev) ?? s.etaSeconds
    } else if (ev.type === 'complete') {
      s.phase = 'complete'
      s.f1 = num(d.val_macro_f1) ?? s.f1
      s.accuracy = num(d.val_accuracy) ?? s.accuracy
      if (s.total) s.step = s.total
      s.etaSeconds = 0
    } else if (ev.type === 'error') {
      s.phase = d.state === 'cancelled' ? 'cancelled' : 'failed'
      s.failure = describeFailure(ev)
      s.etaSeconds = null
    }
  }
  return s
}

/** The text of a log line: its message, or one built from its data when the message is empty. */
export function lineText(line: JobEvent): string {
  if (line.message) return line.message
  const d = line.data ?? {}
  if (line.type === 'progress') {
    return `epoch ${d.epoch ?? '?'} · step ${d.step ?? '?'}/${d.total ?? '?'} · loss ${num(d.loss)?.toFixed(4) ?? '—'}`
  }
  if (line.type === 'eval') return `eval · macro-F1 ${num(d.f1)?.toFixed(3) ?? '—'} · accuracy ${num(d.accuracy)?.toFixed(3) ?? '—'}`
  return Object.keys(d).length ? JSON.stringify(d) : ''
}

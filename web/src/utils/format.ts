/** Small display formatters shared by the components. */

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return '—'
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`
}

export function formatScore(value: number | null | undefined, digits = 3): string {
  return value == null || !Number.isFinite(value) ? '—' : value.toFixed(digits)
}

/** A score with its 95 % interval, e.g. "0.540 (0.48-0.60)"; the score alone when there is no interval. */
export function formatScoreInterval(value: number | null | undefined, interval: readonly number[] | null | undefined): string {
  const score = formatScore(value)
  if (score === '—' || !interval || interval.length !== 2) return score
  return `${score} (${formatScore(interval[0], 2)}-${formatScore(interval[1], 2)})`
}

export function formatClock(ts: string | null | undefined): string {
  if (!ts) return ''
  const d = new Date(ts)
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour12: false })
}

export function formatDate(ts: string | null | undefined): string {
  if (!ts) return '—'
  const d = new Date(ts)
  return Number.isNaN(d.getTime()) ? ts : d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })
}

export function formatEpoch(epoch: number | null | undefined): string {
  return epoch == null ? '—' : (Math.round(epoch * 100) / 100).toString()
}

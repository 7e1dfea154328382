/** Job helpers: which jobs are active, which one to follow after a reload, and a short label for each. */
import type { Job } from '@/types'

export const isActive = (job: Job) => job.state === 'queued' || job.state === 'running'

/** The job to show when the person has not picked one: the running one, else the next queued, else the newest. */
export function pickJobToFollow(all: Job[]): Job | null {
  const jobs = all.filter((j) => j.kind !== 'benchmark') // a benchmark's log shows under the charts
  const running = jobs.find((j) => j.state === 'running')
  if (running) return running
  const queued = jobs.filter((j) => j.state === 'queued')
    .sort((a, b) => (a.queue_position ?? Infinity) - (b.queue_position ?? Infinity))
  return queued[0] ?? jobs[0] ?? null
}

export function epochsText(epochs: number | null): string {
  return epochs == null ? '? epochs' : `${epochs} epoch${epochs === 1 ? '' : 's'}`
}

export function jobTitle(job: Job): string {
  if (job.name || job.result?.name) return (job.name || job.result?.name) as string
  if (job.kind === 'benchmark') return 'Benchmark'
  return `${job.model ?? 'model'} · ${epochsText(job.epochs)}`
}

/** Job helpers: which jobs are active, which one to follow after a reload, and short labels for each. */
import { reviewKind } from '@/review/types'
import type { Job, JobKind } from '@/types'
import { reviewTitle } from '@/utils/review'

export const isActive = (job: Job) => job.state === 'queued' || job.state === 'running'

/** The job to show when the person has not picked one, among the `kinds` the page is about (the Fine-tune page:
 * fine-tunes only; a benchmark's log shows under the charts, an audit's or score's on the Review page): the running
 * one, else the next queued, else the newest. */
export function pickJobToFollow(all: Job[], kinds: readonly JobKind[] = ['finetune']): Job | null {
  const jobs = all.filter((j) => kinds.includes(j.kind))
  const running = jobs.find((j) => j.state === 'running')
  if (running) return running
  const queued = jobs.filter((j) => j.state === 'queued')
    .sort((a, b) => (a.queue_position ?? Infinity) - (b.queue_position ?? Infinity))
  return queued[0] ?? jobs[0] ?? null
}

/** Why a job did not succeed, as a sentence (Job.error is {code, message}), or null. */
export const jobErrorText = (job: Job | null | undefined): string | null => job?.error?.message ?? null

export function epochsText(epochs: number | null | undefined): string {
  return epochs == null ? '? epochs' : `${epochs} epoch${epochs === 1 ? '' : 's'}`
}

/** The run's name: the one asked for, else the one the worker published. */
export function jobName(job: Job): string | null {
  const published = job.result?.name
  return job.name || (typeof published === 'string' ? published : null)
}

export function jobTitle(job: Job): string {
  if (reviewKind(job)) return reviewTitle(job) // its `name` is the model it scores, not a run's name
  const name = jobName(job)
  if (name) return name
  if (job.kind === 'benchmark') return 'Benchmark'
  return `${job.model ?? 'model'} · ${epochsText(job.epochs)}`
}

/** Who queued a job that no one queued from a page: `celery call`, or the worker after a fine-tune. */
export function sourceText(job: Job): string | null {
  if (job.source === 'celery') return 'via celery'
  if (job.source === 'worker') return 'queued by the worker after a fine-tune'
  return null
}

/**
 * Calls `onEnd` once for each job that ends while the page is open, whoever queued it (this tab, another tab, the
 * worker, `celery call`). Jobs that had already ended at the first load are history and report nothing.
 */
import { toValue, watch, type MaybeRefOrGetter } from 'vue'
import type { Job } from '@/types'
import { isActive } from '@/utils/jobs'

export function useJobEnds(jobs: MaybeRefOrGetter<Job[] | null>, onEnd: (job: Job) => void) {
  const ended = new Set<string>()
  let loaded = false

  return watch(() => toValue(jobs), (list) => {
    if (!list) return // not loaded yet
    for (const job of list) {
      if (isActive(job) || ended.has(job.id)) continue
      ended.add(job.id)
      if (loaded) onEnd(job)
    }
    loaded = true
  }, { immediate: true })
}

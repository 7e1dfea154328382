/** The jobs of both kinds, newest first, polled every 2 s; `add` shows a job just queued before the next poll. */
import { computed } from 'vue'
import { api } from '@/api'
import { usePolling } from '@/composables/usePolling'
import type { Job } from '@/types'

export function useJobs(intervalMs = 2000) {
  const poll = usePolling(() => api.jobs(), intervalMs)
  const list = computed<Job[]>(() => poll.data.value ?? [])

  function add(job: Job) {
    poll.data.value = [job, ...list.value.filter((j) => j.id !== job.id)]
    poll.refresh()
  }

  return { data: poll.data, list, error: poll.error, refresh: poll.refresh, add }
}

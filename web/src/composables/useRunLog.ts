/** The whole event log of one job (GET .../log, paged), for drawing a finished run's curves beside another's. */
import { ref, shallowRef, toValue, watch, type MaybeRefOrGetter } from 'vue'
import { api } from '@/api'
import type { JobEvent } from '@/types'

export function useRunLog(jobId: MaybeRefOrGetter<string | null>) {
  const events = shallowRef<JobEvent[]>([])
  const error = ref<string | null>(null)
  const loading = ref(false)

  watch(() => toValue(jobId), async (id) => {
    events.value = []
    error.value = null
    if (!id) return
    loading.value = true
    try {
      const found = await api.allEvents(id)
      if (toValue(jobId) === id) events.value = found
    } catch (e) {
      if (toValue(jobId) === id) error.value = `Could not load the run's log: ${(e as Error).message}`
    } finally {
      loading.value = false
    }
  }, { immediate: true })

  return { events, error, loading }
}

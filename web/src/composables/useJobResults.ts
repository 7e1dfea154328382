/**
 * One result file of a finished job (GET /api/jobs/{id}/results?name=&limit=), read into checked rows; loaded again
 * when the job (or its readiness) changes. At most `limit` rows are fetched: the table shows those, the download
 * link gives every row.
 */
import { ref, shallowRef, toValue, watch, type MaybeRefOrGetter } from 'vue'
import { api } from '@/api'
import type { ParsedRows, RowGuard } from '@/utils/jsonl'

export function useJobResults<T>(jobId: MaybeRefOrGetter<string | null>, name: string, guard: RowGuard<T>,
  { ready = true as MaybeRefOrGetter<boolean>, limit = 500 } = {}) {
  const data = shallowRef<ParsedRows<T> | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(false)
  let asked = 0 // answers to an older question (another job picked meanwhile) are dropped

  async function reload() {
    const id = toValue(jobId)
    const ask = ++asked
    data.value = null
    error.value = null
    if (!id || !toValue(ready)) return
    loading.value = true
    try {
      const parsed = await api.jobResults(id, name, guard, limit)
      if (ask === asked) data.value = parsed
    } catch (e) {
      if (ask === asked) error.value = `Could not load the ${name.replace('_', '-')} results: ${(e as Error).message}`
    } finally {
      if (ask === asked) loading.value = false
    }
  }

  watch(() => [toValue(jobId), toValue(ready)], reload, { immediate: true })
  return { data, error, loading, reload }
}

/** What useJobResults gives: the parsed rows, the error and loading flags, and reload. */
export type JobResults<T> = ReturnType<typeof useJobResults<T>>

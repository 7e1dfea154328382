/** One dataset's details (label counts, what the label set drops, text lengths, a few rows), reloaded per id. */
import { ref, shallowRef, toValue, watch, type MaybeRefOrGetter } from 'vue'
import { api } from '@/api'
import type { DatasetDetail } from '@/types'

export function useDataset(id: MaybeRefOrGetter<string | null>) {
  const data = shallowRef<DatasetDetail | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(false)

  async function load(wanted: string | null) {
    data.value = null
    error.value = null
    if (!wanted) return
    loading.value = true
    try {
      const detail = await api.dataset(wanted)
      if (toValue(id) === wanted) data.value = detail // a later pick wins
    } catch (e) {
      if (toValue(id) === wanted) error.value = (e as Error).message
    } finally {
      loading.value = false
    }
  }

  watch(() => toValue(id), load, { immediate: true })
  return { data, error, loading, reload: () => load(toValue(id)) }
}

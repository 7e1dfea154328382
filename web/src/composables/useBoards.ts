/** Loads the benchmark results the charts show; `refresh` after a benchmark job ends. */
import { ref, shallowRef } from 'vue'
import { api } from '@/api'
import type { BenchmarkResults } from '@/types'

export function useBoards() {
  const results = shallowRef<BenchmarkResults | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(true)

  async function refresh() {
    try {
      results.value = await api.benchmarkResults()
      error.value = null
    } catch (e) {
      error.value = (e as Error).message
    } finally {
      loading.value = false
    }
  }

  refresh()
  return { results, error, loading, refresh }
}

/** Loads what the top of the page shows: fine-tuned models (badges) and benchmark results (charts). */
import { ref, shallowRef } from 'vue'
import { api } from '@/api'
import type { BenchmarkResults, ModelStatus } from '@/types'

export function useBoards() {
  const trained = shallowRef<ModelStatus[]>([])
  const results = shallowRef<BenchmarkResults | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(true)

  async function refresh() {
    const [t, r] = await Promise.allSettled([api.trained(), api.benchmarkResults()])
    if (t.status === 'fulfilled') trained.value = t.value
    if (r.status === 'fulfilled') results.value = r.value
    const failed = [t, r].find((x): x is PromiseRejectedResult => x.status === 'rejected')
    error.value = failed ? (failed.reason as Error).message : null
    loading.value = false
  }

  refresh()
  return { trained, results, error, loading, refresh }
}

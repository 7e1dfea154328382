/**
 * Calls an async loader now and again `intervalMs` after each answer; keeps the last data and a readable error.
 * With `untilLoaded`, it stops after the first success (it still retries failures).
 */
import { ref, shallowRef, onScopeDispose } from 'vue'

export function usePolling<T>(load: () => Promise<T>, intervalMs: number, { untilLoaded = false } = {}) {
  const data = shallowRef<T | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(true)
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false

  async function refresh() {
    clearTimeout(timer)
    try {
      data.value = await load()
      error.value = null
      if (untilLoaded) stopped = true
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e)
    } finally {
      loading.value = false
      if (!stopped) timer = setTimeout(refresh, intervalMs)
    }
  }

  function stop() {
    stopped = true
    clearTimeout(timer)
  }

  refresh()
  onScopeDispose(stop)
  return { data, error, loading, refresh, stop }
}

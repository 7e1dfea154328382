/**
 * The jobs, newest first (every kind, or only `kind`'s: the server filters, so a page holds 50 of that kind): the
 * newest page polled every 2 s (live), and older pages appended on request (`loadOlder`, cursor pagination by
 * X-Next-Before). `add` shows a job just queued before the next poll.
 */
import { computed, ref, shallowRef, watch } from 'vue'
import { api } from '@/api'
import { usePolling } from '@/composables/usePolling'
import type { Job, JobKind } from '@/types'

export function useJobs(intervalMs = 2000, pageSize = 50, kind?: JobKind) {
  const query = kind ? { limit: pageSize, kind } : { limit: pageSize }
  const liveNext = ref<string | null>(null) // the cursor after the newest page, while no older page is loaded
  const poll = usePolling(async () => {
    const page = await api.jobsPage(query)
    liveNext.value = page.nextBefore
    return page.jobs
  }, intervalMs)
  const older = shallowRef<Job[]>([])
  const olderNext = ref<string | null>(null)
  const olderLoaded = ref(false)
  const loadingOlder = ref(false)
  const olderError = ref<string | null>(null)

  const list = computed<Job[]>(() => {
    const live = poll.data.value ?? []
    const ids = new Set(live.map((j) => j.id))
    return [...live, ...older.value.filter((j) => !ids.has(j.id))]
  })
  const hasOlder = computed(() => (olderLoaded.value ? olderNext.value : liveNext.value) != null)

  // Jobs pushed off the newest page by new ones stay listed above the older pages (no gap in between).
  watch(poll.data, (now, before) => {
    if (!olderLoaded.value || !before) return
    const ids = new Set((now ?? []).map((j) => j.id))
    const fallen = before.filter((j) => !ids.has(j.id))
    if (fallen.length) older.value = [...fallen, ...older.value.filter((j) => !fallen.some((f) => f.id === j.id))]
  })

  async function loadOlder() {
    const before = olderLoaded.value ? olderNext.value : liveNext.value
    if (before == null || loadingOlder.value) return
    loadingOlder.value = true
    olderError.value = null
    try {
      const page = await api.jobsPage({ ...query, before })
      older.value = [...older.value, ...page.jobs]
      olderNext.value = page.nextBefore
      olderLoaded.value = true
    } catch (e) {
      olderError.value = `Could not load older jobs: ${(e as Error).message}`
    } finally {
      loadingOlder.value = false
    }
  }

  function add(job: Job) {
    poll.data.value = [job, ...(poll.data.value ?? []).filter((j) => j.id !== job.id)]
    poll.refresh()
  }

  return { data: poll.data, list, error: poll.error, refresh: poll.refresh, add, hasOlder, loadingOlder, olderError, loadOlder }
}

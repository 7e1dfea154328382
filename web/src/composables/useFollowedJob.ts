/**
 * Which job a page shows: the one the person picked, else the running (or next queued) job of the page's `kinds`
 * (default fine-tunes), moving on to the next one when it ends; after a reload the running job is found again.
 */
import { computed, ref, toValue, watch, type MaybeRefOrGetter } from 'vue'
import type { Job, JobKind } from '@/types'
import { isActive, pickJobToFollow } from '@/utils/jobs'

export function useFollowedJob(jobs: MaybeRefOrGetter<Job[]>, kinds: readonly JobKind[] = ['finetune']) {
  const id = ref<string | null>(null)
  const picked = ref(false)
  const job = computed(() => toValue(jobs).find((j) => j.id === id.value) ?? null)

  watch(() => toValue(jobs), (list) => {
    const current = list.find((j) => j.id === id.value)
    const next = pickJobToFollow(list, kinds)
    if (!id.value || (!picked.value && current && !isActive(current) && next && isActive(next))) {
      id.value = next?.id ?? null
    }
  }, { immediate: true })

  /** The person picked this job: keep showing it. */
  function select(jobId: string) {
    picked.value = true
    id.value = jobId
  }

  /** Show a job just started, and move on by itself again when it ends. */
  function follow(jobId: string) {
    picked.value = false
    id.value = jobId
  }

  return { id, job, select, follow }
}

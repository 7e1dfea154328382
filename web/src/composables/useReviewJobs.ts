/**
 * The labelling loop's jobs (audit and score), newest first: one server-filtered list per kind (GET /api/jobs?kind=),
 * so a busy fine-tune queue never pushes them off the page; `loadOlder` pages both lists on.
 */
import { computed } from 'vue'
import { useJobs } from '@/composables/useJobs'
import type { Job } from '@/types'

export function useReviewJobs(intervalMs = 2000, pageSize = 50) {
  const lists = { audit: useJobs(intervalMs, pageSize, 'audit'), score: useJobs(intervalMs, pageSize, 'score') }
  const both = Object.values(lists)
  // submitted_at is an ISO time in UTC, all written alike, so the strings sort as the times do.
  const list = computed<Job[]>(() => both.flatMap((l) => l.list.value)
    .sort((a, b) => b.submitted_at.localeCompare(a.submitted_at)))

  return {
    list,
    loaded: computed(() => both.every((l) => l.data.value != null)),
    error: computed(() => both.map((l) => l.error.value).find((e) => e) ?? null),
    hasOlder: computed(() => both.some((l) => l.hasOlder.value)),
    loadingOlder: computed(() => both.some((l) => l.loadingOlder.value)),
    olderError: computed(() => both.map((l) => l.olderError.value).find((e) => e) ?? null),
    loadOlder: () => Promise.all(both.map((l) => l.loadOlder())),
    refresh: () => both.forEach((l) => l.refresh()),
    add: (job: Job) => (job.kind === 'score' ? lists.score : lists.audit).add(job),
  }
}

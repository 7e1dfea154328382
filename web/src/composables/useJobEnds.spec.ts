import { describe, expect, it, vi } from 'vitest'
import { nextTick, shallowRef } from 'vue'
import { useJobEnds } from './useJobEnds'
import { makeJob } from '@/testing/jobs'
import type { Job } from '@/types'

function watchEnds(initial: Job[] | null = null) {
  const jobs = shallowRef<Job[] | null>(initial)
  const onEnd = vi.fn()
  useJobEnds(jobs, onEnd)
  const ended = () => onEnd.mock.calls.map(([job]) => job.id)
  return { jobs, onEnd, ended }
}

describe('useJobEnds', () => {
  it('treats jobs that had ended at the first load as history', async () => {
    const { jobs, ended } = watchEnds()
    jobs.value = [makeJob({ id: 'old', state: 'succeeded' }), makeJob({ id: 'run', state: 'running' })]
    await nextTick()
    expect(ended()).toEqual([])
  })

  it('reports each job that ends while the page is open, once', async () => {
    const { jobs, ended } = watchEnds([makeJob({ id: 'run', state: 'running' })])
    jobs.value = [makeJob({ id: 'run', state: 'succeeded' })]
    await nextTick()
    jobs.value = [makeJob({ id: 'run', state: 'succeeded' })]
    await nextTick()
    expect(ended()).toEqual(['run'])
  })

  it('reports a job it never saw running: a short benchmark the worker queued between two polls', async () => {
    const { jobs, ended } = watchEnds([makeJob({ id: 'ft', state: 'running' })])
    jobs.value = [
      makeJob({ id: 'bench', kind: 'benchmark', state: 'succeeded', source: 'worker' }),
      makeJob({ id: 'ft', state: 'succeeded' }),
    ]
    await nextTick()
    expect(ended()).toEqual(['bench', 'ft'])
  })
})

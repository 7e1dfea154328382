import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick, ref } from 'vue'
import { useJobEvents } from './useJobEvents'
import { FakeEventSource } from '@/testing/FakeEventSource'

const last = () => FakeEventSource.instances.at(-1)!

function follow(id: string | null = 'job-1') {
  const scope = effectScope()
  const jobId = ref<string | null>(id)
  const stream = scope.run(() => useJobEvents(jobId, { retryMs: 100, maxRetries: 2 }))!
  return { scope, jobId, stream }
}

beforeEach(() => {
  FakeEventSource.instances = []
  vi.stubGlobal('EventSource', FakeEventSource)
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('useJobEvents', () => {
  it('replays the history from the start and follows live events', () => {
    const { stream } = follow()
    expect(last().url).toBe('/api/jobs/job-1/events')
    expect(stream.status.value).toBe('CONNECTING')
    last().open()
    expect(stream.status.value).toBe('OPEN')
    last().send(1, 'queued'); last().send(2, 'started'); last().send(3, 'progress', { step: 1 })
    expect(stream.events.value.map((e) => e.id)).toEqual([1, 2, 3])
    expect(stream.data.value?.type).toBe('progress')
  })

  it('reconnects after a broken stream with the last event id and skips replayed events', async () => {
    const { stream } = follow()
    last().open(); last().send(1); last().send(2); last().send(3)
    last().fail(FakeEventSource.CLOSED)
    expect(stream.status.value).toBe('CLOSED')
    expect(stream.error.value).toMatch(/reconnecting/)
    expect(FakeEventSource.instances).toHaveLength(1)
    vi.advanceTimersByTime(100)
    expect(FakeEventSource.instances).toHaveLength(2)
    expect(last().url).toBe('/api/jobs/job-1/events?last_event_id=3')
    last().open()
    expect(stream.error.value).toBeNull()
    last().send(3); last().send(4) // a server that replays from its own cursor: 3 is dropped
    expect(stream.events.value.map((e) => e.id)).toEqual([1, 2, 3, 4])
  })

  it('lets the browser resume by itself while it is reconnecting (Last-Event-ID header)', () => {
    const { stream } = follow()
    last().open(); last().send(1)
    last().fail(FakeEventSource.CONNECTING)
    expect(stream.status.value).toBe('CONNECTING')
    vi.advanceTimersByTime(10_000)
    expect(FakeEventSource.instances).toHaveLength(1)
    last().open(); last().send(1); last().send(2)
    expect(stream.events.value.map((e) => e.id)).toEqual([1, 2])
  })

  it('closes after the terminal event so the browser does not reconnect', () => {
    const { stream } = follow()
    last().open(); last().send(1); last().send(2, 'complete', { name: 'm1' })
    expect(last().closed).toBe(true)
    expect(stream.status.value).toBe('CLOSED')
    last().fail(FakeEventSource.CLOSED) // the server closing its end after `complete`
    vi.advanceTimersByTime(10_000)
    expect(FakeEventSource.instances).toHaveLength(1)
    expect(stream.error.value).toBeNull()
  })

  it('gives up with a readable error after the retries run out', () => {
    const { stream } = follow()
    last().fail(FakeEventSource.CLOSED); vi.advanceTimersByTime(100)
    last().fail(FakeEventSource.CLOSED); vi.advanceTimersByTime(200)
    last().fail(FakeEventSource.CLOSED); vi.advanceTimersByTime(10_000)
    expect(FakeEventSource.instances).toHaveLength(3)
    expect(stream.error.value).toMatch(/could not reconnect/)
  })

  it('starts over when another job is picked, and closes when the scope is disposed', async () => {
    const { scope, jobId, stream } = follow()
    last().open(); last().send(1); last().send(2)
    const first = last()
    jobId.value = 'job-2'
    await nextTick()
    expect(first.closed).toBe(true)
    expect(last().url).toBe('/api/jobs/job-2/events')
    expect(stream.events.value).toEqual([])
    scope.stop()
    expect(last().closed).toBe(true)
  })

  it('opens nothing without a job', () => {
    const { stream } = follow(null)
    expect(FakeEventSource.instances).toHaveLength(0)
    expect(stream.status.value).toBe('CLOSED')
  })
})

/** Follows one job's SSE event stream: replays its history, then live; resumes after the last event id on a break. */
import { ref, shallowRef, toValue, watch, onScopeDispose, type MaybeRefOrGetter } from 'vue'
import { api } from '@/api'
import { TERMINAL_EVENT_TYPES } from '@/generated/rules'
import type { JobEvent } from '@/types'

export type StreamStatus = 'CONNECTING' | 'OPEN' | 'CLOSED'
export const TERMINAL = new Set<string>(TERMINAL_EVENT_TYPES) // the server's (src/generated/rules.ts)

export function useJobEvents(jobId: MaybeRefOrGetter<string | null>, { retryMs = 1000, maxRetries = 8 } = {}) {
  const status = ref<StreamStatus>('CLOSED')
  const data = shallowRef<JobEvent | null>(null)
  const events = shallowRef<JobEvent[]>([])
  const error = ref<string | null>(null)
  let source: EventSource | null = null
  let timer: ReturnType<typeof setTimeout> | undefined
  let lastId = 0
  let retries = 0

  function close() {
    clearTimeout(timer)
    source?.close()
    source = null
    status.value = 'CLOSED'
  }

  function onMessage(msg: MessageEvent) {
    const ev = JSON.parse(msg.data) as JobEvent
    if (typeof ev.id === 'number' && ev.id <= lastId) return // already seen: a resumed stream replayed it
    lastId = ev.id ?? lastId
    events.value = [...events.value, ev] // a new array, so components given it as a prop update
    data.value = ev
    if (TERMINAL.has(ev.type)) close()
  }

  function onError(es: EventSource) {
    if (es !== source) return
    if (es.readyState !== EventSource.CLOSED) {
      status.value = 'CONNECTING' // the browser reconnects by itself and sends Last-Event-ID
      return
    }
    close()
    if (retries >= maxRetries) {
      error.value = 'Lost the job\'s event stream and could not reconnect; reload the page to try again.'
      return
    }
    error.value = 'Lost the job\'s event stream; reconnecting…'
    timer = setTimeout(open, retryMs * 2 ** Math.min(retries++, 4))
  }

  function open() {
    const id = toValue(jobId)
    close()
    if (!id) return
    const es = new EventSource(api.jobEventsUrl(id, lastId))
    source = es
    status.value = 'CONNECTING'
    es.onopen = () => { status.value = 'OPEN'; error.value = null; retries = 0 }
    es.onmessage = onMessage
    es.onerror = () => onError(es)
  }

  watch(() => toValue(jobId), () => {
    lastId = 0
    retries = 0
    events.value = []
    data.value = null
    error.value = null
    open()
  }, { immediate: true })
  onScopeDispose(close)

  return { status, data, events, error, close, open }
}

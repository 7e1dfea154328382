/** Runs the benchmark (with save) over SSE, collecting its lines; never reconnects, which would start another run. */
import { ref, shallowRef, onScopeDispose } from 'vue'
import { api } from '@/api'
import type { LogLine } from '@/types'

export function useBenchmarkRun() {
  const lines = shallowRef<LogLine[]>([])
  const running = ref(false)
  const error = ref<string | null>(null)
  let source: EventSource | null = null

  function push(line: LogLine) {
    lines.value = [...lines.value, { ts: new Date().toISOString(), ...line }]
  }

  function close() {
    source?.close()
    source = null
    running.value = false
  }

  /** Resolves true when the run completed and its results were saved. */
  function run(): Promise<boolean> {
    close()
    lines.value = []
    error.value = null
    running.value = true
    return new Promise((resolve) => {
      const es = new EventSource(api.benchmarkRunUrl())
      source = es
      es.onmessage = (msg) => {
        const line = JSON.parse(msg.data) as LogLine
        push({ ...line, message: line.message ?? '' })
        if (line.type === 'complete' || line.type === 'error') {
          if (line.type === 'error') error.value = line.message || 'The benchmark failed.'
          close()
          resolve(line.type === 'complete')
        }
      }
      es.onerror = () => {
        if (es !== source) return
        error.value = 'Lost the benchmark\'s live log; the run goes on in the background (see Jobs), and the charts refresh when it ends.'
        push({ type: 'error', message: error.value })
        close()
        resolve(false)
      }
    })
  }

  onScopeDispose(close)
  return { lines, running, error, run, close }
}

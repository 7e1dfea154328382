/** A stand-in for the browser's EventSource that a spec drives by hand (stub it with vi.stubGlobal). */
export class FakeEventSource {
  static CONNECTING = 0
  static OPEN = 1
  static CLOSED = 2
  static instances: FakeEventSource[] = []
  readyState = FakeEventSource.CONNECTING
  onopen: (() => void) | null = null
  onmessage: ((msg: MessageEvent) => void) | null = null
  onerror: (() => void) | null = null
  closed = false
  constructor(readonly url: string) { FakeEventSource.instances.push(this) }
  open() { this.readyState = FakeEventSource.OPEN; this.onopen?.() }
  send(id: number, type = 'log', data: Record<string, unknown> = {}) {
    const event = { id, ts: '2025-01-01T00:00:00Z', type, message: `${type} ${id}`, data }
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(event), lastEventId: String(id) }))
  }
  fail(readyState: number) { this.readyState = readyState; this.onerror?.() }
  close() { this.closed = true; this.readyState = FakeEventSource.CLOSED }
}

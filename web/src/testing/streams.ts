/**
 * For view specs that follow jobs: each test gets the fake EventSource (no streams left from the last test) and fake
 * timeouts (the reconnect and polling delays), undone after it. Call at the top of the spec file.
 */
import { afterEach, beforeEach, vi } from 'vitest'
import { FakeEventSource } from './FakeEventSource'

export function useFakeStreams() {
  beforeEach(() => {
    FakeEventSource.instances = []
    vi.stubGlobal('EventSource', FakeEventSource)
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })
}

/** The stream the page opened last. */
export const lastStream = () => FakeEventSource.instances[FakeEventSource.instances.length - 1]!

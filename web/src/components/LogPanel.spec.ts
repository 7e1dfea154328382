import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { nextTick } from 'vue'
import LogPanel from './LogPanel.vue'
import type { JobEvent } from '@/types'

const line = (id: number, type: string, message: string, data: Record<string, unknown> = {}): JobEvent =>
  ({ id, ts: '2025-01-01T10:00:00Z', type, message, data })

describe('LogPanel', () => {
  it('shows the empty text until there are lines', () => {
    const w = mount(LogPanel, { props: { lines: [], emptyText: 'Nothing yet' } })
    expect(w.text()).toContain('Nothing yet')
    expect(w.findAll('[data-testid="log-line"]')).toHaveLength(0)
  })

  it('renders one row per line with its type as a class', () => {
    const w = mount(LogPanel, {
      props: { lines: [line(1, 'queued', 'Queued'), line(2, 'warning', 'Slow disk'), line(3, 'error', 'Boom')] },
    })
    const rows = w.findAll('[data-testid="log-line"]')
    expect(rows.map((r) => r.find('.log-msg').text())).toEqual(['Queued', 'Slow disk', 'Boom'])
    expect(rows[1]!.classes()).toContain('log-warning')
    expect(rows[2]!.classes()).toContain('log-error')
    expect(w.find('[role="log"]').exists()).toBe(true)
  })

  it('builds text from the data of a progress event without a message', () => {
    const w = mount(LogPanel, {
      props: { lines: [line(4, 'progress', '', { epoch: 0.5, step: 3, total: 12, loss: 1.23456 })] },
    })
    expect(w.find('.log-msg').text()).toBe('epoch 0.5 · step 3/12 · loss 1.2346')
  })

  it('appends streamed lines and keeps the view at the bottom', async () => {
    const lines = [line(1, 'log', 'one')]
    const w = mount(LogPanel, { props: { lines }, attachTo: document.body })
    const box = w.find('[role="log"]').element as HTMLElement
    Object.defineProperty(box, 'scrollHeight', { configurable: true, value: 500 })
    Object.defineProperty(box, 'clientHeight', { configurable: true, value: 100 })
    await w.setProps({ lines: [...lines, line(2, 'log', 'two')] })
    await nextTick()
    expect(w.findAll('[data-testid="log-line"]')).toHaveLength(2)
    expect(box.scrollTop).toBe(500)
    w.unmount()
  })

  it('stops following when the reader scrolled up', async () => {
    const w = mount(LogPanel, { props: { lines: [line(1, 'log', 'one')] }, attachTo: document.body })
    const box = w.find('[role="log"]').element as HTMLElement
    Object.defineProperty(box, 'scrollHeight', { configurable: true, value: 500 })
    Object.defineProperty(box, 'clientHeight', { configurable: true, value: 100 })
    box.scrollTop = 50
    await w.find('[role="log"]').trigger('scroll')
    await w.setProps({ lines: [line(1, 'log', 'one'), line(2, 'log', 'two')] })
    await nextTick()
    expect(box.scrollTop).toBe(50)
    w.unmount()
  })
})

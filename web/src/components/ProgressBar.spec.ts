import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ProgressBar from './ProgressBar.vue'

const base = { phase: 'running' as const, step: 30, total: 120, epoch: 1.25, epochs: 5, etaSeconds: 95 }

describe('ProgressBar', () => {
  it('shows the share of steps done, the epoch, step/total and the ETA', () => {
    const w = mount(ProgressBar, { props: base })
    const bar = w.find('[role="progressbar"]')
    expect(bar.attributes('aria-valuenow')).toBe('25')
    expect((w.find('.fill').element as HTMLElement).style.width).toBe('25%')
    expect(w.text()).toContain('Epoch 1.25 / 5')
    expect(w.find('[data-testid="progress-steps"]').text()).toBe('Step 30 / 120')
    expect(w.find('[data-testid="progress-eta"]').text()).toBe('ETA 1m 35s')
  })

  it('is indeterminate while the job waits in the queue, and says where it is', () => {
    const w = mount(ProgressBar, {
      props: { ...base, phase: 'waiting', step: null, total: null, etaSeconds: null, queuePosition: 1 },
    })
    expect(w.find('.fill').classes()).toContain('indeterminate')
    expect(w.find('[role="progressbar"]').attributes('aria-valuenow')).toBeUndefined()
    expect(w.find('[data-testid="progress-caption"]').text()).toBe('Queued · position 1 · waiting for a worker')
    expect(w.find('[data-testid="progress-eta"]').exists()).toBe(false)
  })

  it('fills up on completion and shows no ETA', () => {
    const w = mount(ProgressBar, { props: { ...base, phase: 'complete', step: 120, etaSeconds: 0 } })
    expect(w.find('[role="progressbar"]').attributes('aria-valuenow')).toBe('100')
    expect(w.find('[data-testid="progress-caption"]').text()).toBe('Finished')
    expect(w.find('[data-testid="progress-eta"]').exists()).toBe(false)
  })

  it('clamps odd step counts and shows a dash for an unknown ETA', () => {
    const w = mount(ProgressBar, { props: { ...base, step: 130, etaSeconds: null } })
    expect(w.find('[role="progressbar"]').attributes('aria-valuenow')).toBe('100')
    expect(w.find('[data-testid="progress-eta"]').text()).toBe('ETA —')
  })

  it('marks a failed run', () => {
    const w = mount(ProgressBar, { props: { ...base, phase: 'failed' } })
    expect(w.classes()).toContain('is-failed')
    expect(w.find('[data-testid="progress-caption"]').text()).toBe('Failed')
  })
})

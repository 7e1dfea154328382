import { describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import JobsPanel from './JobsPanel.vue'
import { makeJob } from '@/testing/jobs'

const jobs = (n: number, from = 0) => Array.from({ length: n }, (_, i) => makeJob({ id: `j-${from + i}`, state: 'succeeded' }))

describe('JobsPanel', () => {
  it('offers older jobs only when there are more, and focuses the first appended job', async () => {
    const props = { jobs: jobs(2), selectedId: null, cancelling: new Set<string>(), hasOlder: true, loadingOlder: false }
    const wrapper = mount(JobsPanel, { props, attachTo: document.body })
    const button = wrapper.find('[data-testid="load-older"]')
    expect(button.text()).toBe('Load older jobs')

    await button.trigger('click')
    expect(wrapper.emitted('older')).toHaveLength(1)
    await wrapper.setProps({ loadingOlder: true })
    expect(wrapper.find('[data-testid="load-older"]').attributes('disabled')).toBeDefined()
    await wrapper.setProps({ jobs: [...jobs(2), ...jobs(2, 2)], loadingOlder: false, hasOlder: false })
    await flushPromises()
    expect(document.activeElement?.getAttribute('data-id')).toBe('j-2')
    expect(wrapper.find('[data-testid="load-older"]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('shows why older jobs could not be loaded', () => {
    const wrapper = mount(JobsPanel, {
      props: { jobs: jobs(1), selectedId: null, cancelling: new Set<string>(), hasOlder: true, olderError: 'Could not load older jobs: boom' },
    })
    expect(wrapper.find('[data-testid="older-error"]').text()).toBe('Could not load older jobs: boom')
    expect(wrapper.find('[data-testid="older-error"]').attributes('role')).toBe('alert')
  })
})

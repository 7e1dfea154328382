import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ConfusionMatrix from './ConfusionMatrix.vue'

const props = { labels: ['offer', 'rejected'], matrix: [[3, 1], [0, 2]] }
const cells = (w: ReturnType<typeof mount>) => w.findAll('[data-testid="confusion-cell"]').map((c) => c.text())

describe('ConfusionMatrix', () => {
  it('shows counts with true labels as row headers and predicted labels as column headers', () => {
    const w = mount(ConfusionMatrix, { props })
    expect(w.findAll('tbody th').map((h) => h.text())).toEqual(['offer', 'rejected'])
    expect(w.findAll('thead th.col').map((h) => h.text())).toEqual(['offer', 'rejected'])
    expect(cells(w)).toEqual(['3', '1', '0', '2'])
    expect(w.find('[data-testid="confusion-counts"]').attributes('aria-pressed')).toBe('true')
  })

  it('switches to row-normalised shares, each row adding up to 100%', async () => {
    const w = mount(ConfusionMatrix, { props })
    await w.find('[data-testid="confusion-rows"]').trigger('click')
    expect(cells(w)).toEqual(['75%', '25%', '0%', '100%'])
    expect(w.find('table').attributes('data-mode')).toBe('rows')
    expect(w.find('[data-testid="confusion-rows"]').attributes('aria-pressed')).toBe('true')
  })

  it('shades the cells by value (the darkest the largest) and lets the keyboard scroll the table', () => {
    const w = mount(ConfusionMatrix, { props })
    const styles = w.findAll('td').map((c) => c.attributes('style'))
    expect(styles[0]).toContain('rgb(17, 94, 89)')
    expect(styles[2]).toContain('rgb(255, 255, 255)')
    expect(w.find('[role="region"]').attributes('tabindex')).toBe('0')
  })
})

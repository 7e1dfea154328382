import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ScoresTable from './ScoresTable.vue'
import { formatScoreInterval } from '@/utils/format'

const scores = {
  method: 'cross-fitted', rows: 313, too_few_to_judge: ['rare_label'],
  ensemble: { macro_f1: 0.54, interval: [0.48, 0.6], accuracy: 0.7 },
  transformer: { macro_f1: 0.479, interval: [0.42, 0.54], accuracy: 0.66 },
  ngram: { macro_f1: 0.497, interval: [0.44, 0.55], accuracy: 0.68 },
}

describe('ScoresTable', () => {
  it('shows each part with its 95 % interval and flags the labels too rare to judge', () => {
    const w = mount(ScoresTable, { props: { scores } })
    const rows = w.findAll('tbody tr')
    expect(rows.map((r) => r.attributes('data-part'))).toEqual(['ensemble', 'transformer', 'ngram'])
    expect(rows[0]!.text()).toContain('0.540 (0.48-0.60)')
    expect(w.find('[data-testid="too-few"]').text()).toContain('rare_label')
  })

  it('formats a score without an interval as the score alone', () => {
    expect(formatScoreInterval(0.5, null)).toBe('0.500')
    expect(formatScoreInterval(null, [0.1, 0.2])).toBe('—')
  })
})

import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ScoreResults from './ScoreResults.vue'
import { fakeApi } from '@/testing/fakeApi'
import { jsonl, nextRow, prediction, scoreDone } from '@/testing/review'

afterEach(() => vi.unstubAllGlobals())

describe('ScoreResults', () => {
  it('lists the rows to label next (ranked) and the disagreements (with the given label), each downloadable', async () => {
    const next = [nextRow(1, 12, 'a'), nextRow(2, 5, 'b')]
    const disagree = [prediction(7, 'b', 'a')]
    const api = fakeApi({
      'GET /api/jobs/s1/results': (_init, url) => jsonl(url.includes('name=label_next') ? next : disagree),
    })
    const w = mount(ScoreResults, { props: { job: scoreDone('s1', next, disagree) } })
    await flushPromises()
    expect(api.calls.sort()).toEqual([
      'GET /api/jobs/s1/results?name=disagreements&limit=500', 'GET /api/jobs/s1/results?name=label_next&limit=500',
    ])
    const ranked = w.findAll('[data-testid="label-next-row"]')
    expect(ranked.map((r) => r.attributes('data-line'))).toEqual(['12', '5'])
    expect(ranked[0]!.text()).toMatch(/^1\s*12\s*a 60 %\s*b 30 %\s*0\.70\s*Email 12\s*Preview 12$/)
    const given = w.findAll('[data-testid="disagreements-row"]')
    expect(given[0]!.text()).toMatch(/^7\s*a\s*b 60 %/)
    expect(w.text()).toContain('60 rows (40 labelled) with mail v3 · 1 disagreements · 41.2 emails/s')
    const links = ['label_next', 'disagreements', 'predictions'].map((n) => w.find(`[data-testid="download-${n}"]`))
    expect(links.map((l) => l.attributes('href'))).toEqual([
      '/api/jobs/s1/results?name=label_next', '/api/jobs/s1/results?name=disagreements', '/api/jobs/s1/results?name=predictions',
    ])
    expect(links[2]!.text()).toBe('Download all predictions (60 rows)')
  })

  it('says so when there is nothing to label next or no disagreement', async () => {
    fakeApi({ 'GET /api/jobs/s2/results': () => jsonl([]) })
    const w = mount(ScoreResults, { props: { job: scoreDone('s2', [], []) } })
    await flushPromises()
    expect(w.find('[data-testid="label-next-empty"]').text()).toContain('every row of this dataset has a label')
    expect(w.find('[data-testid="disagreements-empty"]').text()).toContain('agrees with every labelled row')
  })
})

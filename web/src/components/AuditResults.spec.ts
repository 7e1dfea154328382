import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import AuditResults from './AuditResults.vue'
import { fakeApi, json } from '@/testing/fakeApi'
import { auditDone, issue, jsonl } from '@/testing/review'

afterEach(() => vi.unstubAllGlobals())

const issues = [issue(1, 'a', 'b', { subject: 'Offer letter', preview: 'We are delighted' }), issue(2, 'b', 'a'), issue(3, 'a', 'b', { id: null })]

describe('AuditResults', () => {
  it('shows the ranked issues with given -> suggested and probabilities, counts per label and a download', async () => {
    const api = fakeApi({ 'GET /api/jobs/j1/results': () => jsonl(issues) })
    const w = mount(AuditResults, { props: { job: auditDone('j1', issues) } })
    await flushPromises()
    expect(api.calls).toEqual(['GET /api/jobs/j1/results?name=issues&limit=500'])
    const rows = w.findAll('[data-testid="issue-row"]')
    expect(rows.map((r) => r.attributes('data-line'))).toEqual(['3', '6', '9'])
    expect(rows[0]!.text()).toMatch(/^1\s*3\s*row-1\s*a 5 %\s*→\s*suggested\s*b 90 %\s*0\.050\s*Offer letter\s*We are delighted$/)
    const filters = w.findAll('[data-testid="label-filter"]')
    expect(filters.map((b) => b.text())).toEqual(['All 3', 'a 2', 'b 1', 'c 0'])
    expect(filters[3]!.attributes('disabled')).toBeDefined() // no issue with that label: nothing to filter to
    const download = w.find('[data-testid="download-issues"]')
    expect(download.attributes('href')).toBe('/api/jobs/j1/results?name=issues')
    expect(download.attributes('download')).toBe('j1-issues.jsonl')
  })

  it('filters the table by given label', async () => {
    fakeApi({ 'GET /api/jobs/j1/results': () => jsonl(issues) })
    const w = mount(AuditResults, { props: { job: auditDone('j1', issues) } })
    await flushPromises()
    await w.find('[data-label="b"]').trigger('click')
    expect(w.find('[data-label="b"]').attributes('aria-pressed')).toBe('true')
    expect(w.findAll('[data-testid="issue-row"]').map((r) => r.attributes('data-given'))).toEqual(['b'])
    await w.find('[data-label=""]').trigger('click')
    expect(w.findAll('[data-testid="issue-row"]')).toHaveLength(3)
  })

  it('says when the table holds part of the file, shows more on request, and reports unreadable rows', async () => {
    const many = Array.from({ length: 120 }, (_, i) => issue(i + 1, 'a', 'b'))
    const job = auditDone('j2', many)
    job.result!.results = [{ name: 'issues', rows: 900 }]
    fakeApi({ 'GET /api/jobs/j2/results': () => new Response(`${many.map((r) => JSON.stringify(r)).join('\n')}\nnot json\n`) })
    const w = mount(AuditResults, { props: { job } })
    await flushPromises()
    expect(w.find('[data-testid="issues-partial"]').text()).toContain('first 120 of 900 issues')
    expect(w.find('[role="status"]').text()).toContain('1 rows of the file could not be read')
    expect(w.findAll('[data-testid="issue-row"]')).toHaveLength(100)
    await w.find('[data-testid="issues-more"]').trigger('click')
    expect(w.findAll('[data-testid="issue-row"]')).toHaveLength(120)
  })

  it('has an empty state, and an error with a retry when the API refuses', async () => {
    let answer = () => json({ detail: 'Job j3 has no results yet.' }, 409)
    fakeApi({ 'GET /api/jobs/j3/results': () => answer() })
    const w = mount(AuditResults, { props: { job: auditDone('j3', []) } })
    await flushPromises()
    expect(w.find('[data-testid="issues-error"]').text()).toContain('Could not load the issues results: Job j3 has no results yet.')
    answer = () => jsonl([])
    await w.find('[data-testid="issues-error"] button').trigger('click')
    await flushPromises()
    expect(w.find('[data-testid="no-issues"]').exists()).toBe(true)
  })
})

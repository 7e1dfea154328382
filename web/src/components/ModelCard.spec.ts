import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ModelCard from './ModelCard.vue'

describe('ModelCard', () => {
  it('renders headings below the page\'s own, tables and code, and any HTML in the card as text', () => {
    const source = '# avocet-m1\n\n<img src=x onerror=alert(1)> **bold**\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n```\n<script>x()</script>\n```'
    const w = mount(ModelCard, { props: { source } })
    expect(w.find('h3').text()).toBe('avocet-m1')
    expect(w.find('img').exists()).toBe(false)
    expect(w.find('script').exists()).toBe(false)
    expect(w.find('p').text()).toBe('<img src=x onerror=alert(1)> bold')
    expect(w.find('strong').text()).toBe('bold')
    expect(w.findAll('td').map((td) => td.text())).toEqual(['1', '2'])
    expect(w.find('pre code').text()).toBe('<script>x()</script>')
  })
})

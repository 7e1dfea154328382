import { describe, expect, it } from 'vitest'
import { parseInline, parseMarkdown } from './markdown'

const CARD = [
  '---', 'library_name: transformers', 'tags:', '- avocet', '---', '', '# avocet-m1', '',
  'Fine-tuned from `minilm` to sort **emails**', 'into 2 labels.', '', '## Scores', '', '- macro-F1: 0.8', '- accuracy: 0.9', '',
  '| label | F1 |', '| --- | ---: |', '| a\\|b | 0.5 |', '', '1. first', '2. second', '', '```python', 'x = "<b>"', '```',
].join('\n')

describe('parseMarkdown', () => {
  it('reads front matter, headings, paragraphs, lists, tables and fenced code', () => {
    const blocks = parseMarkdown(CARD)
    expect(blocks.map((b) => b.type)).toEqual(['meta', 'heading', 'paragraph', 'heading', 'list', 'table', 'list', 'code'])
    expect(blocks[0]).toEqual({ type: 'meta', text: 'library_name: transformers\ntags:\n- avocet' })
    expect(blocks[2]).toEqual({ type: 'paragraph', inlines: [
      { kind: 'text', text: 'Fine-tuned from ' }, { kind: 'code', text: 'minilm' }, { kind: 'text', text: ' to sort ' },
      { kind: 'strong', text: 'emails' }, { kind: 'text', text: ' into 2 labels.' },
    ] })
    expect(blocks[5]).toMatchObject({ align: ['left', 'right'], rows: [[[{ text: 'a|b' }], [{ text: '0.5' }]]] })
    expect(blocks[6]).toMatchObject({ ordered: true, items: [[{ text: 'first' }], [{ text: 'second' }]] })
    expect(blocks[7]).toEqual({ type: 'code', lang: 'python', text: 'x = "<b>"' })
  })

  it('keeps markup as text and never loops on odd input', () => {
    expect(parseInline('<script>alert(1)</script>')).toEqual([{ kind: 'text', text: '<script>alert(1)</script>' }])
    expect(parseMarkdown('| not a table\n```\nunclosed').map((b) => b.type)).toEqual(['paragraph', 'code'])
    expect(parseMarkdown('---\nno end')).toEqual([{ type: 'paragraph', inlines: [{ kind: 'text', text: '--- no end' }] }])
  })
})

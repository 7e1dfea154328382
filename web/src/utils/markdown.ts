/**
 * A tiny Markdown reader for model cards: YAML front matter, headings, paragraphs, lists, pipe tables, fenced code,
 * and `code` / **bold** inline. It returns plain data that templates render as text (never as HTML), so nothing in a
 * card can inject markup; anything it does not know is shown as the text it is.
 */

export type Inline = { kind: 'text' | 'code' | 'strong'; text: string }
export type Block =
  | { type: 'meta'; text: string }
  | { type: 'heading'; level: number; inlines: Inline[] }
  | { type: 'paragraph'; inlines: Inline[] }
  | { type: 'list'; ordered: boolean; items: Inline[][] }
  | { type: 'table'; head: Inline[][]; rows: Inline[][][]; align: ('left' | 'right' | 'center')[] }
  | { type: 'code'; lang: string; text: string }

export function parseInline(text: string): Inline[] {
  const out: Inline[] = []
  for (const [i, part] of text.split('`').entries()) {
    if (i % 2 === 1) { out.push({ kind: 'code', text: part }); continue }
    for (const [j, bit] of part.split('**').entries()) if (bit) out.push({ kind: j % 2 ? 'strong' : 'text', text: bit })
  }
  return out
}

const LIST = /^\s*(?:([-*+])|(\d+)[.)])\s+(.*)$/
const RULE = /^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/
const cells = (line: string) => line.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '').split(/(?<!\\)\|/)
  .map((c) => c.trim().replace(/\\\|/g, '|'))
const alignOf = (c: string) => (c.endsWith(':') ? (c.startsWith(':') ? 'center' : 'right') : 'left') as 'left'

export function parseMarkdown(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n')
  const blocks: Block[] = []
  let i = 0
  if (lines[0]?.trim() === '---') {
    const end = lines.findIndex((l, n) => n > 0 && l.trim() === '---')
    if (end > 0) { blocks.push({ type: 'meta', text: lines.slice(1, end).join('\n') }); i = end + 1 }
  }
  while (i < lines.length) {
    const line = lines[i]!
    const fence = line.match(/^\s*```\s*([\w-]*)/)
    let m: RegExpMatchArray | null
    if (!line.trim()) { i++; continue }
    if (fence) {
      const end = lines.findIndex((l, n) => n > i && /^\s*```/.test(l))
      const stop = end < 0 ? lines.length : end
      blocks.push({ type: 'code', lang: fence[1] ?? '', text: lines.slice(i + 1, stop).join('\n') })
      i = stop + 1
    } else if ((m = line.match(/^(#{1,6})\s+(.*)$/))) {
      blocks.push({ type: 'heading', level: m[1]!.length, inlines: parseInline(m[2]!.trim()) })
      i++
    } else if (line.trim().startsWith('|') && RULE.test(lines[i + 1] ?? '')) {
      const rows: Inline[][][] = []
      let n = i + 2
      for (; n < lines.length && lines[n]!.trim().startsWith('|'); n++) rows.push(cells(lines[n]!).map(parseInline))
      blocks.push({ type: 'table', head: cells(line).map(parseInline), rows, align: cells(lines[i + 1]!).map(alignOf) })
      i = n
    } else if ((m = line.match(LIST))) {
      const ordered = !m[1]
      const items: Inline[][] = []
      for (; i < lines.length && (m = lines[i]!.match(LIST)) && !m[1] === ordered; i++) items.push(parseInline(m[3]!))
      blocks.push({ type: 'list', ordered, items })
    } else {
      const text = [line.trim()]
      for (i++; i < lines.length && lines[i]!.trim() && !/^(#{1,6}\s|\s*```|\|)/.test(lines[i]!) && !LIST.test(lines[i]!); i++) {
        text.push(lines[i]!.trim())
      }
      blocks.push({ type: 'paragraph', inlines: parseInline(text.join(' ')) })
    }
  }
  return blocks
}

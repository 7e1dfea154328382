/**
 * Emails pasted into "Try it": one JSON object per line ({"subject", "body"}, as in a dataset file), or plain text
 * with emails separated by a line of `---`, each one's first line its subject and the rest its body.
 */
import type { EmailText } from '@/types'

export const MAX_EMAILS = 256

function fromJsonLines(lines: string[]): EmailText[] | null {
  try {
    return lines.map((line) => {
      const row = JSON.parse(line)
      if (!row || typeof row !== 'object' || (typeof row.subject !== 'string' && typeof row.body !== 'string')) throw 0
      return { subject: String(row.subject ?? ''), body: String(row.body ?? '') }
    })
  } catch {
    return null
  }
}

export function parseEmails(text: string): EmailText[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim())
  if (lines.length && lines.every((l) => l.trim().startsWith('{'))) {
    const rows = fromJsonLines(lines)
    if (rows) return rows
  }
  return text.split(/^\s*-{3,}\s*$/m).map((chunk) => chunk.trim()).filter(Boolean).map((chunk) => {
    const [subject = '', ...body] = chunk.split(/\r?\n/)
    return { subject: subject.trim(), body: body.join('\n').trim() }
  })
}

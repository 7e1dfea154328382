import { describe, expect, it } from 'vitest'
import { EPOCHS_DEFAULT, EPOCHS_MAX, EPOCHS_MIN, epochsProblem, NAME_PATTERN, nameProblem } from './validation'
import openapi from '@/generated/openapi.json'

const params = openapi.components.schemas.FinetuneParams.properties
const refused = `Use lower-case letters, digits, "_" or "-" only (the service's rule: ${NAME_PATTERN}).`

describe('input rules', () => {
  it('are the API\'s FinetuneParams rules', () => {
    expect([EPOCHS_MIN, EPOCHS_MAX, EPOCHS_DEFAULT]).toEqual([
      params.epochs.minimum, params.epochs.maximum, params.epochs.default,
    ])
    expect(epochsProblem(String(EPOCHS_MIN))).toBeNull()
    expect(epochsProblem(String(EPOCHS_MAX + 1))).toMatch(/out of range/)
  })

  it('use the server\'s name pattern as it is', () => {
    expect(params.name.anyOf.map((b) => ('pattern' in b ? b.pattern : null))).toContain(NAME_PATTERN)
  })

  it('refuse what the server refuses in a name: upper case, ".", a space, too long', () => {
    for (const bad of ['MiniLM', 'run.v2', 'a b', 'x'.repeat(65), '-'.repeat(65)]) {
      expect(nameProblem(bad), bad).toBe(refused)
    }
  })

  it('accept what the server accepts, and an empty name (the service chooses one)', () => {
    for (const good of ['minilm-1', 'run_2', '0', 'x'.repeat(64), '', '  ']) expect(nameProblem(good), good).toBeNull()
  })
})

import { describe, expect, it } from 'vitest'
import { nextTick, ref } from 'vue'
import { usePick } from './usePick'

describe('usePick', () => {
  it('picks the first item, keeps a pick the list still holds, and falls back when the list drops it', async () => {
    const list = ref([{ id: 'a' }, { id: 'b' }])
    const picked = usePick(() => list.value, (d) => d.id)
    expect(picked.value).toBe('a')
    picked.value = 'b'
    list.value = [{ id: 'c' }, { id: 'b' }]
    await nextTick()
    expect(picked.value).toBe('b')
    list.value = [{ id: 'c' }]
    await nextTick()
    expect(picked.value).toBe('c')
    list.value = []
    await nextTick()
    expect(picked.value).toBe('')
  })
})

/**
 * A picked item of a list that changes under the user (polled datasets, models): its key, kept one of the list's,
 * the first item's when the list no longer holds it ('' while the list is empty).
 */
import { ref, watch, type Ref } from 'vue'

export function usePick<T>(list: () => T[], key: (item: T) => string): Ref<string> {
  const picked = ref('')
  watch(list, (items) => {
    if (!items.some((item) => key(item) === picked.value)) picked.value = items[0] ? key(items[0]) : ''
  }, { immediate: true })
  return picked
}

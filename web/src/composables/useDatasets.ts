/** The datasets (the score file and uploads) and uploading one: a refused file keeps its line-numbered problems. */
import { ref, shallowRef } from 'vue'
import { api } from '@/api'
import type { Dataset } from '@/types'
import { describeUploadFailure, type UploadFailure } from '@/utils/uploads'

export function useDatasets() {
  const list = shallowRef<Dataset[]>([])
  const error = ref<string | null>(null)
  const loading = ref(true)
  const uploading = ref(false)
  const uploadError = shallowRef<UploadFailure | null>(null)

  async function refresh() {
    try {
      list.value = await api.datasets()
      error.value = null
    } catch (e) {
      error.value = (e as Error).message
    } finally {
      loading.value = false
    }
  }

  /** Uploads a file; the stored dataset (also when the same bytes were there already), or null when refused. */
  async function upload(file: File): Promise<Dataset | null> {
    uploading.value = true
    uploadError.value = null
    try {
      const dataset = await api.uploadDataset(file)
      await refresh()
      return dataset
    } catch (e) {
      uploadError.value = describeUploadFailure(e, file.name)
      return null
    } finally {
      uploading.value = false
    }
  }

  refresh()
  return { list, error, loading, refresh, uploading, uploadError, upload }
}

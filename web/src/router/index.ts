/** The view's pages, each loaded when first visited (so the first page load stays small). */
import { createRouter, createWebHistory } from 'vue-router'

export const routes = [
  { path: '/', redirect: '/train' },
  { path: '/train', name: 'train', component: () => import('@/views/TrainView.vue'), meta: { title: 'Fine-tune' } },
  { path: '/data', name: 'data', component: () => import('@/views/DataView.vue'), meta: { title: 'Data' } },
  { path: '/models', name: 'models', component: () => import('@/views/ModelsView.vue'), meta: { title: 'Models' } },
  {
    path: '/models/:name', name: 'model', component: () => import('@/views/ModelView.vue'), props: true,
    meta: { title: 'Model' },
  },
  { path: '/try', name: 'try', component: () => import('@/views/TryView.vue'), meta: { title: 'Try it' } },
  { path: '/compare', name: 'compare', component: () => import('@/views/CompareView.vue'), meta: { title: 'Compare' } },
  { path: '/review', name: 'review', component: () => import('@/views/ReviewView.vue'), meta: { title: 'Review' } },
  { path: '/:rest(.*)*', redirect: '/train' },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.afterEach((to) => {
  const page = to.name === 'model' ? String(to.params.name) : String(to.meta.title ?? '')
  document.title = page ? `${page} · Avocet` : 'Avocet'
})

// The page's service worker: it keeps the page's shell (index.html, app.js) so the page opens with
// no network at all; the data comes from the client's own storage (the row cache and the outbox in
// IndexedDB), never from here. Network first, so a deploy shows at once when online; the cache
// answers only when the network does not. /sync and /dev/* are never touched.

const CACHE = 'shoal-chat-shell-v1'
const SHELL = ['./', './index.html', './app.js']

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  )
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  )
})

self.addEventListener('fetch', (event) => {
  const request = event.request
  const url = new URL(request.url)
  if (request.method !== 'GET' || url.origin !== self.location.origin) return
  if (url.pathname === '/sync' || url.pathname.startsWith('/dev/')) return
  event.respondWith(fromNetworkElseCache(request))
})

async function fromNetworkElseCache(request) {
  const cache = await caches.open(CACHE)
  // Every navigation is the page (the channel is in the hash).
  const key = request.mode === 'navigate' ? './index.html' : request
  try {
    const response = await fetch(request)
    if (response.ok && (request.mode === 'navigate' || SHELL.some((p) => new URL(p, self.location).pathname === new URL(request.url).pathname))) {
      await cache.put(key, response.clone())
    }
    return response
  } catch (err) {
    const cached = await cache.match(key)
    if (cached) return cached
    throw err
  }
}

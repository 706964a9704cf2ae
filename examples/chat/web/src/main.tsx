// The page's entry point (bundled by build.js). The session for a stored sign-in starts here,
// outside React, so that exactly one ShoalClient (one outbox) exists per page.
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { loadAuth } from './auth'
import { Session } from './session'

const auth = loadAuth()
createRoot(document.getElementById('root')!).render(<App initial={auth ? new Session(auth) : null} />)

// The shell (this script and index.html) kept for opening with no network (web/sw.js); the data
// comes from the client's row cache and outbox in IndexedDB.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js').catch((err) => console.warn('no offline shell:', err))
}

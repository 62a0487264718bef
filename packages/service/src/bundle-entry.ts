// A service's dist/server.js (what `node dist/server.js` and the image start): runs
// dist/server.cjs, the service bundled by scripts/bundle-service.mjs, through the
// code cache made beside it at build time (see code-cache.ts).
import { fileURLToPath } from 'node:url'
import { runBundle } from './code-cache.js'

runBundle(fileURLToPath(new URL('./server.cjs', import.meta.url)))

import { loadModule, parseSync } from 'libpg-query'
await loadModule()
const sql = process.argv[2]
console.log(JSON.stringify(parseSync(sql), (k, v) => (k === 'location' || k === 'stmt_location' ? undefined : v)))

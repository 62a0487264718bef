// The floor for "launch to ready": a bare Node process that opens a pg pool,
// runs one query and answers /readyz. No framework, no migrations.
import http from 'node:http'
import pg from 'pg'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 })
await pool.query('SELECT 1')
http
  .createServer(async (_request, response) => {
    await pool.query('SELECT 1')
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}')
  })
  .listen(Number(process.env.PORT), '127.0.0.1')

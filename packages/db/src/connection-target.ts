// Describes where a connection URL points without ever revealing its password.

export interface ConnectionTarget {
  host: string
  port: number
  database: string
  user: string
}

export function parseConnectionTarget(url: string): ConnectionTarget {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new Error('database URL is not a valid URL (expected postgres://user:password@host:port/database)')
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error(`database URL must start with postgres:// or postgresql://, got ${parsed.protocol}//`)
  }
  return {
    host: parsed.hostname || 'localhost',
    port: parsed.port ? Number(parsed.port) : 5432,
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username),
    user: decodeURIComponent(parsed.username),
  }
}

/** `user@host:port/database`, safe to print in logs and errors. */
export function describeTarget(url: string): string {
  const t = parseConnectionTarget(url)
  return `${t.user ? `${t.user}@` : ''}${t.host}:${t.port}/${t.database}`
}

/** The same URL with the password replaced, for printing. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '<invalid database URL>'
  }
}

// Reads Prometheus' text exposition format (what /metrics serves) into samples, so
// tests can compare one series between two scrapes.

export interface MetricSample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface ScrapedMetrics {
  /** Family name -> its # TYPE (counter, gauge, histogram, summary, untyped). */
  types: Map<string, string>
  samples: MetricSample[]
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

export function parseMetrics(text: string): ScrapedMetrics {
  const types = new Map<string, string>()
  const samples: MetricSample[] = []
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice('# TYPE '.length).split(' ')
      types.set(name!, type!)
      continue
    }
    if (line === '' || line.startsWith('#')) continue
    const match = SAMPLE.exec(line)
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, name, value] of (match[2] ?? '').matchAll(LABEL))
      labels[name!] = value!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    samples.push({ name: match[1]!, labels, value: Number(match[3]) })
  }
  return { types, samples }
}

/** The value of the one sample with exactly these labels, or undefined when there is none. */
export function sampleValue(
  metrics: ScrapedMetrics,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const wanted = Object.entries(labels)
  return metrics.samples.find(
    (sample) =>
      sample.name === name &&
      Object.keys(sample.labels).length === wanted.length &&
      wanted.every(([key, value]) => sample.labels[key] === value),
  )?.value
}

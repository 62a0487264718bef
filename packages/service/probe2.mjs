import { Registry, collectDefaultMetrics, Counter, Histogram } from 'prom-client'
const p = new Registry(); collectDefaultMetrics({ register: p })
const r = new Registry()
const c = new Counter({ name: 'a_total', help: 'h', labelNames: ['method','route','status_code'], registers: [r] })
const h = new Histogram({ name: 'b', help: 'h', labelNames: ['method','route','status_code'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [r] })
for (const route of ['/a','/b/:id','/c','unmatched']) for (const s of [200,404,503]) { c.inc({method:'GET',route,status_code:s}); h.observe({method:'GET',route,status_code:s}, 0.003) }
async function time(label, fn, n) { for (let i=0;i<50;i++) await fn(); const t0=process.cpuUsage(); const w0=performance.now(); for (let i=0;i<n;i++) await fn(); const t=process.cpuUsage(t0); console.log(label, ((t.user+t.system)/n).toFixed(2),'µs cpu', ((performance.now()-w0)*1000/n).toFixed(2), 'µs wall') }
await time('process registry', () => p.metrics(), 500)
await time('app registry', () => r.metrics(), 500)
await time('merge+metrics', () => Registry.merge([p, r]).metrics(), 500)
const labels = () => ({ method: 'GET', route: '/b/:id', status_code: 200 })
await time('hook work (inc+observe)', () => { const l = labels(); c.inc(l); h.observe(l, 0.0031) }, 200000)

// How a service runs as a process, for the CLI (make dev, make run) and for
// @app/testkit's startService, which every test and the bench start services with.
export { describeExit, type Exit, type ProcessOptions, type RunningProcess, startProcess } from './process.js'
export { httpStatus, pollUntilReady } from './readiness.js'
export { SERVICE_START_COMMAND, type ServiceProcessOptions, startServiceProcess } from './service.js'

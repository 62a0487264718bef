// The command line behind the Makefile (packages/ops/src/cli.ts): its few exports
// are for the ops tests and the drills.
export { DEV_DATABASE, devAdminUrl, openAdminDatabase } from './admin-database.js'
export {
  assertBuilt,
  developmentEnv,
  SERVICE_START_COMMAND,
  type ServiceProcess,
  serviceProcessEnv,
  startServiceProcess,
} from './stack/service-process.js'

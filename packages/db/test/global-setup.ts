import { testRunSetup } from '../src/test-run.js'

export default testRunSetup()

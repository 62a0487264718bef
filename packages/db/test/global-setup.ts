import { testRunSetup } from '../src/testing/global-setup.js'

export default testRunSetup()

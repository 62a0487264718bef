import { testRunSetup } from '@app/testkit'

export default testRunSetup()

import { testRunSetup } from '@app/db/testing'

export default testRunSetup()

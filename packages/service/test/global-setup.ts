import { testRunSetup } from '@app/db/test-run'

export default testRunSetup()

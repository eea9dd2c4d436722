/**
 * Serves the Ortto STAND-IN (test/helpers/ortto-standin.ts) with the small instance of
 * test/helpers/ortto-instance.ts on 127.0.0.1:PORT until stopped: for the demo (scripts/demo.sh),
 * which points the bridge at it with CRM_MIGRATION_ORTTO_URL (test and demo only). Not Ortto.
 *   node dist/test/helpers/ortto-standin-serve.js PORT
 */
import { OrttoStandin } from './ortto-standin.js';
import { orttoInstance, ORTTO_KEY } from './ortto-instance.js';

const port = Number(process.argv[2] ?? 18078);
const { people, data } = orttoInstance();
const standin = await new OrttoStandin(people, ORTTO_KEY, 1, data).start(port);
process.stdout.write(`Ortto stand-in (not Ortto) on ${standin.url}, API key ${ORTTO_KEY}\n`);
const stop = () => void standin.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

/**
 * The nginx launcher lives in fixtures/src/nginx.ts (shared with the benchmarks); the tests import it
 * from here.
 */
export { freePorts, startNginx, testCA, type AccessLine, type Nginx, type NginxOptions, type TestCA } from '#fixtures';

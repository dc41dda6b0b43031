import { execFileSync } from 'node:child_process';
import { SUBGRAPHS } from '@itsm/kit';

/** Runs drizzle-kit generate for each subgraph (or the ones named): new SQL under drizzle/<name>/. */
const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const extra = process.argv.slice(2).filter((a) => a.startsWith('-'));
for (const name of names.length ? names : SUBGRAPHS) {
  execFileSync('drizzle-kit', ['generate', '--config', `drizzle/${name}.config.ts`, ...extra], { stdio: 'inherit' });
}

import { OpenIncidentsDocument, ProblemWithIncidentsDocument } from './generated/graphql.js';
import { request } from './request.js';

/**
 * What a frontend team writes once the documents are generated: `pnpm tsx clients/example.ts <token>` against a
 * running gateway prints the open critical and high incidents and, for the first problem number given, its incidents.
 */
async function main(): Promise<void> {
  const [token, problemNumber] = process.argv.slice(2);
  if (!token) throw new Error('usage: tsx clients/example.ts <token> [problem number]');
  const endpoint = 'http://127.0.0.1:4000/graphql';
  const { incidents } = await request(endpoint, token, OpenIncidentsDocument, { first: 20, filter: { state: ['NEW', 'IN_PROGRESS'], priority: [1, 2] } });
  for (const { node } of incidents.edges) console.log(`${node.number} P${node.priority} ${node.state} ${node.title}`);
  if (problemNumber) {
    const { problem } = await request(endpoint, token, ProblemWithIncidentsDocument, { number: problemNumber });
    console.log(problem ? `${problem.number}: ${problem.incidents.map((i) => i.number).join(', ')}` : `${problemNumber} not found`);
  }
}

await main();

import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connectionParams, endpointUrls, readPageConfig } from '../shared/config.js';

const config = readPageConfig();
const urls = endpointUrls(config.graphqlPath);

// Queries and mutations go over HTTP with the header editor's headers, on top of the dev token (the schema is
// introspected before the header editor exists); subscriptions go over the gateway's graphql-ws, authenticated by
// the same token in connectionParams.
const fetcher = createGraphiQLFetcher({
  url: urls.http,
  headers: config.devToken ? { Authorization: `Bearer ${config.devToken}` } : {},
  subscriptionUrl: urls.ws,
  wsConnectionParams: connectionParams(config.devToken),
});

const headers = config.devToken ? JSON.stringify({ Authorization: `Bearer ${config.devToken}` }, null, 2) : '{\n  "Authorization": "Bearer <token>"\n}';

const DEFAULT_QUERY = `# The ITSM graph: incidents, problems and change requests of your tenant.
# The header editor below holds a development token for the demo tenant.
query OpenIncidents {
  incidents(first: 10, filter: { state: [NEW, IN_PROGRESS] }) {
    totalCount
    edges {
      node {
        number
        title
        priorityLabel
        state
      }
    }
  }
}
`;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <GraphiQL
      fetcher={fetcher}
      defaultQuery={DEFAULT_QUERY}
      initialHeaders={headers}
      defaultHeaders={headers}
      shouldPersistHeaders={false}
      defaultEditorToolsVisibility="headers"
    />
  </StrictMode>,
);

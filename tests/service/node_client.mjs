// A real Node GraphQL client (graphql-request, pinned in package.json) against a running
// gateway: variables, a fragment, paging with a cursor, and a coded error.
// Usage: node node_client.mjs <graphql url> <bearer token>; prints one JSON object.
import { ClientError, GraphQLClient, gql } from "graphql-request";

const [url, token] = process.argv.slice(2);
const client = new GraphQLClient(url, { headers: { Authorization: `Bearer ${token}` } });

const page = gql`
  query WorkflowPage($first: Int!, $after: String) {
    workflowJobs(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ...JobSummary }
    }
  }
  fragment JobSummary on Job { id provider source nativeId status }
`;

const first = await client.request(page, { first: 2 });
const second = await client.request(page, {
  first: 2,
  after: first.workflowJobs.pageInfo.endCursor,
});

let errorCode = null;
try {
  await client.request(gql`query TooMany($n: Int!) { workflowJobs(first: $n) { totalCount } }`, {
    n: 100000,
  });
} catch (error) {
  if (!(error instanceof ClientError)) throw error;
  errorCode = error.response.errors[0].extensions.code;
}

process.stdout.write(JSON.stringify({ first, second, errorCode }));

// Real persisted-query clients against a running gateway: Apollo Client's persisted-query
// link (over POST, and with useGETForHashedQueries over GET) and urql's persisted exchange.
// Each runs one query twice, from two fresh clients; every HTTP request the client makes is
// recorded (method, whether it carried the query text, whether it carried the hash).
// Usage: node persisted_clients.mjs <graphql url> <bearer token or ""> ; prints one JSON object.
import { createHash } from "node:crypto";

import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { Client, fetchExchange, gql as urqlGql } from "@urql/core";
import { persistedExchange } from "@urql/exchange-persisted";

const [url, token] = process.argv.slice(2);
const headers = token ? { Authorization: `Bearer ${token}` } : {};
const sha256 = (text) => createHash("sha256").update(text).digest("hex");

// One operation per client, so that no client finds another's query already registered.
const query = (name) => `
  query ${name}($first: Int!) {
    workflowJobs(first: $first) { nodes { id nativeId status } }
  }
`;

// A fetch that records what each request carried, then sends it unchanged.
function recordingFetch(requests) {
  return async (input, init = {}) => {
    const target = new URL(typeof input === "string" ? input : input.url);
    const method = (init.method ?? "GET").toUpperCase();
    let query = null;
    let extensions = null;
    if (method === "GET") {
      query = target.searchParams.get("query");
      const raw = target.searchParams.get("extensions");
      extensions = raw ? JSON.parse(raw) : null;
    } else {
      const body = JSON.parse(init.body);
      query = body.query ?? null;
      extensions = body.extensions ?? null;
    }
    const response = await fetch(input, init);
    const copy = await response.clone().json();
    requests.push({
      method,
      hasQuery: Boolean(query),
      hash: extensions?.persistedQuery?.sha256Hash ?? null,
      status: response.status,
      errorCodes: (copy.errors ?? []).map((e) => e.extensions?.code ?? null),
    });
    return response;
  };
}

async function apolloRun(requests, name, useGETForHashedQueries) {
  const link = new PersistedQueryLink({ sha256, useGETForHashedQueries }).concat(
    new HttpLink({ uri: url, headers, fetch: recordingFetch(requests) }),
  );
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  const result = await client.query({
    query: gql(query(name)),
    variables: { first: 2 },
    fetchPolicy: "no-cache",
  });
  if (result.error) throw result.error;
  return result.data.workflowJobs.nodes.map((node) => node.nativeId);
}

async function urqlRun(requests) {
  const client = new Client({
    url,
    fetchOptions: { headers },
    fetch: recordingFetch(requests),
    exchanges: [persistedExchange({ generateHash: async (text) => sha256(text) }), fetchExchange],
    requestPolicy: "network-only",
  });
  const result = await client.query(urqlGql(query("UrqlJobs")), { first: 2 }).toPromise();
  if (result.error) throw result.error;
  return result.data.workflowJobs.nodes.map((node) => node.nativeId);
}

async function twice(run) {
  const requests = [[], []];
  const results = [await run(requests[0]), await run(requests[1])];
  return { results, requests };
}

process.stdout.write(
  JSON.stringify({
    apolloPost: await twice((requests) => apolloRun(requests, "ApolloPostJobs", false)),
    apolloGet: await twice((requests) => apolloRun(requests, "ApolloGetJobs", true)),
    urql: await twice(urqlRun),
  }),
);

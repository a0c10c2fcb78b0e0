// Composes running subgraphs into a supergraph and serves it with @apollo/gateway.
//
// Input (env SUBGRAPHS): JSON list of {name, url, headers?}; `headers` are sent only when
// fetching each subgraph's `_service { sdl }` at start. At query time the caller's
// `Authorization` header is forwarded to every subgraph.
// Output: one JSON line on stdout, {"url", "hints": [{code, level, message}]}, once the
// gateway listens on 127.0.0.1 (random port); composition errors go to stderr, exit 1.
// Stops on SIGTERM/SIGINT or when stdin closes.
import { composeServices } from "@apollo/composition";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { parse } from "graphql";

async function fetchSdl({ name, url, headers = {} }) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query: "{ _service { sdl } }" }),
  });
  const body = await response.json();
  if (!response.ok || body.errors) {
    throw new Error(`${name}: cannot fetch _service.sdl: ${response.status} ${JSON.stringify(body)}`);
  }
  return { name, url, typeDefs: parse(body.data._service.sdl) };
}

const subgraphs = JSON.parse(process.env.SUBGRAPHS ?? "[]");
const services = await Promise.all(subgraphs.map(fetchSdl));
const composed = composeServices(services);
if (composed.errors) {
  for (const error of composed.errors) {
    console.error(`composition error: ${error.extensions?.code ?? ""} ${error.message}`);
  }
  process.exit(1);
}
const hints = composed.hints.map((hint) => ({
  code: hint.definition.code,
  level: hint.definition.level.name,
  message: hint.message,
}));

class ForwardingDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    if (context.authorization) {
      request.http.headers.set("authorization", context.authorization);
    }
  }
}

const gateway = new ApolloGateway({
  supergraphSdl: composed.supergraphSdl,
  buildService: ({ url }) => new ForwardingDataSource({ url }),
});
const server = new ApolloServer({ gateway, includeStacktraceInErrorResponses: false });
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port: 0 },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
process.stdout.write(`${JSON.stringify({ url, hints })}\n`);

// A test helper with nothing to flush: exit at once (a graceful stop drains for 10 s).
const exit = () => process.exit(0);
process.on("SIGTERM", exit);
process.on("SIGINT", exit);
process.stdin.on("end", exit);
process.stdin.resume();

// The real graphql-ws client (pinned in package.json) subscribing to a running gateway the way
// a browser does: the token in the connection_init payload (`connectionParams`), no header.
// Usage: node node_subscriber.mjs <ws url> <bearer token> <source>
// Prints one JSON line per message: {"ready": true} once acknowledged, then each
// {"event": ...} or {"errors": [...]}; exits when stdin closes.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, token, source] = process.argv.slice(2);
const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
  on: { connected: () => print({ ready: true }) },
});

client.subscribe(
  {
    query: `subscription Watch($sources: [String!]) {
      jobEvents(sources: $sources) { kind previousStatus at job { nativeId status errorMessage } }
    }`,
    variables: { sources: [source] },
  },
  {
    next: (result) => print(result.errors ? { errors: result.errors } : { event: result.data.jobEvents }),
    error: (error) => print({ closed: String(error && (error.code || error.message || error)) }),
    complete: () => print({ complete: true }),
  },
);

process.stdin.resume();
process.stdin.on("end", async () => {
  await client.dispose();
  process.exit(0);
});

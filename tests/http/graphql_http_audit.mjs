// graphql-http's server audits (npm `graphql-http`, pinned in package.json) against a gateway.
// Usage: node graphql_http_audit.mjs --list      prints [{id, name}] of every audit
//        node graphql_http_audit.mjs <graphql url> prints [{id, name, status, reason, response}]
import { serverAudits } from "graphql-http";

const [target] = process.argv.slice(2);
const audits = serverAudits({ url: target === "--list" ? "http://127.0.0.1:9/graphql" : target });

if (target === "--list") {
  process.stdout.write(JSON.stringify(audits.map(({ id, name }) => ({ id, name }))));
} else {
  const results = [];
  for (const audit of audits) {
    const result = await audit.fn();
    let response = null;
    if (result.status !== "ok") {
      const { status, headers } = result.response;
      const body = await result.response.text().catch((error) => `(unread: ${error})`);
      response = { status, contentType: headers.get("content-type"), body: body.slice(0, 2000) };
    }
    results.push({ ...result, response });
  }
  process.stdout.write(JSON.stringify(results));
}

// Starts GraphiQL on jobgraph's page; every script and style comes from this same server.
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("jobgraph-settings").textContent);
  // The page is served at the GraphQL endpoint itself, wherever a proxy mounts it;
  // subscriptions go over a WebSocket to the same place (GraphiQL bundles the graphql-ws
  // client), with the Headers tab sent as the connection_init payload (the token).
  var wsScheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  var send = GraphiQL.createFetcher({
    url: window.location.pathname,
    subscriptionUrl: wsScheme + "//" + window.location.host + window.location.pathname,
  });

  function parsed(query) {
    try {
      return GraphiQL.GraphQL.parse(query);
    } catch (error) {
      return null; // the server reports the syntax error
    }
  }

  function operationNames(ast) {
    return ast.definitions
      .filter(function (definition) {
        return definition.kind === "OperationDefinition";
      })
      .map(function (definition) {
        return definition.name ? definition.name.value : undefined;
      });
  }

  // GraphiQL notes the selected operation and parses the document 100 ms after an edit: a
  // run within that window sends the previous text's operation name, which the server
  // rightly refuses, and no parsed document, without which a subscription would not go over
  // the WebSocket. So the text is parsed here, and when it holds a single operation, that
  // one is meant.
  function fetcher(params, options) {
    var ast = parsed(params.query);
    if (ast) {
      var names = operationNames(ast);
      if (names.length === 1 && names[0] !== params.operationName) {
        params = Object.assign({}, params, { operationName: names[0] });
      }
      options = Object.assign({}, options, { documentAST: ast });
    }
    return send(params, options);
  }

  var plugins = [];
  if (window.GraphiQLPluginExplorer) {
    plugins.push(window.GraphiQLPluginExplorer.explorerPlugin());
  }
  var props = {
    fetcher: fetcher,
    defaultTabs: settings.tabs,
    defaultEditorToolsVisibility: true,
    plugins: plugins,
  };
  if (settings.headers) {
    props.defaultHeaders = settings.headers;
  }
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, props));
})();

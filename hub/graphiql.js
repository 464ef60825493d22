// The GraphiQL page's own script (inlined by hub/graphiql.py): GraphiQL with a fetcher that
// sends subscriptions over the WebSocket, with the Authorization header of the headers pane
// in connection_init (a new socket when it changes), and the rest over HTTP.
const socketUrl = window.location.href.replace(/^http/, "ws").split(/[?#]/)[0];
let socket = null;
let socketAuthorization = null;

const socketFor = (authorization) => {
  if (socket === null || authorization !== socketAuthorization) {
    if (socket !== null) socket.dispose();
    socketAuthorization = authorization;
    socket = graphqlWs.createClient({
      url: socketUrl,
      lazy: true,
      connectionParams: () => (authorization ? { authorization } : {}),
    });
  }
  return socket;
};

const authorizationIn = (headers) => {
  const name = Object.keys(headers || {}).find((key) => key.toLowerCase() === "authorization");
  return name ? headers[name] : null;
};

// The type of the operation to run, read from the text sent (GraphiQL's parsed document may
// lag behind the editor): comments and strings removed, the operations are the top-level
// bodies, each named by the words before it.
const operationType = (query, operationName) => {
  const text = query.replace(/"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|#[^\n]*/g, " ");
  const tokens = text.match(/[_A-Za-z][_0-9A-Za-z]*|[{}()[\]]/g) || [];
  const operations = [];
  let depth = 0;
  let words = [];
  for (const token of tokens) {
    if ("{([".includes(token)) {
      if (depth === 0 && token === "{") {
        const [type = "query", name] = words;
        if (type !== "fragment") operations.push({ type, name });
        words = [];
      }
      depth += 1;
    } else if ("})]".includes(token)) {
      depth -= 1;
    } else if (depth === 0) {
      words.push(token);
    }
  }
  const chosen = operationName
    ? operations.find((operation) => operation.name === operationName)
    : operations.length === 1 ? operations[0] : undefined;
  return chosen ? chosen.type : "query";
};

const overHttp = GraphiQL.createFetcher({ url: window.location.pathname });

const fetcher = (params, options) => {
  if (operationType(params.query || "", params.operationName) === "subscription") {
    return socketFor(authorizationIn(options && options.headers)).iterate(params);
  }
  return overHttp(params, options);
};

ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true }),
);

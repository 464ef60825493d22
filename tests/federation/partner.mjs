// A partner's subgraph: it knows pledges and organisations by the hub's key and adds a field
// to each, and lists featured pledges by id for the gateway to complete from the hub.
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";

export const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])

  type Pledge @key(fields: "id") {
    id: ID!
    partnerNote: String!
  }

  type Organisation @key(fields: "id") {
    id: ID!
    partnerRating: Int!
  }

  type Query {
    featuredPledges: [Pledge!]!
  }
`);

const featured = (process.env.FEATURED ?? "").split(",").filter(Boolean);
const batches = [];

const resolvers = {
  Query: { featuredPledges: () => featured.map((id) => ({ id })) },
  Pledge: { __resolveReference: (ref) => ({ id: ref.id, partnerNote: `noted ${ref.id}` }) },
  Organisation: { __resolveReference: (ref) => ({ id: ref.id, partnerRating: ref.id.length }) },
};

const recordBatches = {
  async requestDidStart({ request }) {
    const representations = request.variables?.representations;
    if (representations) batches.push(representations.length);
  },
};

if (process.argv[2] === "serve") {
  const server = new ApolloServer({
    schema: buildSubgraphSchema({ typeDefs, resolvers }),
    plugins: [recordBatches],
  });
  const { url } = await startStandaloneServer(server, {
    listen: { host: "127.0.0.1", port: Number(process.env.PORT) },
  });
  // The test reads the sizes of the _entities batches this subgraph received.
  const report = new ApolloServer({
    typeDefs: "type Query { batches: [Int!]! }",
    resolvers: { Query: { batches: () => batches } },
  });
  await startStandaloneServer(report, {
    listen: { host: "127.0.0.1", port: Number(process.env.REPORT_PORT) },
  });
  console.log(`partner ready ${url}`);
}

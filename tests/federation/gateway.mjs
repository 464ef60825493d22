// Composes the hub's subgraph with the partner's and serves an Apollo Gateway in front of both.
import { composeServices } from "@apollo/composition";
import { ApolloGateway } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { parse } from "graphql";
import { typeDefs as partnerTypeDefs } from "./partner.mjs";

const hubUrl = process.env.HUB_URL;
const partnerUrl = process.env.PARTNER_URL;

const response = await fetch(hubUrl, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ query: "{ _service { sdl } }" }),
});
const hubSdl = (await response.json()).data._service.sdl;

const composed = composeServices([
  { name: "hub", url: hubUrl, typeDefs: parse(hubSdl) },
  { name: "partner", url: partnerUrl, typeDefs: partnerTypeDefs },
]);
if (composed.errors) {
  console.error(composed.errors.map((error) => error.message).join("\n"));
  process.exit(1);
}

const gateway = new ApolloGateway({ supergraphSdl: composed.supergraphSdl });
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port: Number(process.env.PORT) },
});
console.log(`gateway ready ${url}`);

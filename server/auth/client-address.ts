import "server-only";
import { headers } from "next/headers";
import {
  PEER_ADDRESS_ENV,
  PEER_ADDRESS_HEADER,
  PEER_PROTOCOL_HEADER,
  parseTrustedProxies,
  resolveClientAddress,
  resolveProtocol,
} from "./client-address-rules";

let trusted: { value: string | undefined; list: ReturnType<typeof parseTrustedProxies> } | null = null;

/**
 * The client's address for the login limits and the audit log: the TCP peer as Canopy's web server reports
 * it, or, from a proxy listed in CANOPY_TRUSTED_PROXIES, the address that proxy forwarded. Under a server that
 * does not report the peer (`next dev`, a bare `next start`), every client is "unknown": one shared address,
 * rather than one the client picks.
 */
export async function clientAddress(): Promise<string> {
  const request = await headers();
  const peer = process.env[PEER_ADDRESS_ENV] === "1" ? request.get(PEER_ADDRESS_HEADER) : null;
  return resolveClientAddress({ peer, forwardedFor: request.get("x-forwarded-for"), trusted: trustedProxies() });
}

/** Whether the client's request came over https, by the same rules (see resolveProtocol). */
export async function clientProtocol(): Promise<"https" | "http"> {
  const request = await headers();
  const believed = process.env[PEER_ADDRESS_ENV] === "1";
  return resolveProtocol({
    peer: believed ? request.get(PEER_ADDRESS_HEADER) : null,
    peerProtocol: believed ? request.get(PEER_PROTOCOL_HEADER) : null,
    forwardedProto: request.get("x-forwarded-proto"),
    trusted: trustedProxies(),
  });
}

function trustedProxies() {
  const value = process.env.CANOPY_TRUSTED_PROXIES;
  if (!trusted || trusted.value !== value) trusted = { value, list: parseTrustedProxies(value) };
  return trusted.list;
}

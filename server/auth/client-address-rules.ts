import { BlockList, isIP } from "node:net";

// Which address a login counts against. Free of "server-only" and of Next so the rules are tested directly.

/**
 * The request header in which Canopy's web server (server/web/main.mjs) puts the TCP peer's address, overwriting
 * whatever the client sent under that name. `next start` has no such thing: it fills in X-Forwarded-For with
 * the peer only when the request has none, so a client that sends its own hides its real address.
 */
export const PEER_ADDRESS_HEADER = "x-canopy-peer-address";

/** The same server's record of the connection's own protocol: "https" on a TLS socket, else "http". */
export const PEER_PROTOCOL_HEADER = "x-canopy-peer-protocol";

/** Set (to "1") by that web server in its own process, so the header is only believed when it wrote it. */
export const PEER_ADDRESS_ENV = "CANOPY_PEER_ADDRESS_HEADER";

/** "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
export function plainAddress(address: string): string {
  const trimmed = address.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return mapped ? mapped[1]! : trimmed;
}

/**
 * CANOPY_TRUSTED_PROXIES: addresses and CIDR ranges, separated by commas or spaces ("127.0.0.1, 10.0.0.0/8,
 * ::1"). Unset or empty: no proxy is trusted. Anything else is a configuration mistake and throws, naming it.
 */
export function parseTrustedProxies(value: string | undefined): BlockList {
  const list = new BlockList();
  for (const entry of (value ?? "").split(/[\s,]+/).filter(Boolean)) {
    const [address = "", prefix, ...rest] = entry.split("/");
    const family = isIP(address);
    const bits = prefix === undefined ? null : Number(prefix);
    const maxBits = family === 6 ? 128 : 32;
    if (!family || rest.length || (bits !== null && !(Number.isInteger(bits) && bits >= 0 && bits <= maxBits))) {
      throw new Error(`CANOPY_TRUSTED_PROXIES: "${entry}" is not an address or a CIDR range`);
    }
    const type = family === 6 ? "ipv6" : "ipv4";
    if (bits === null) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return list;
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? "ipv6" : "ipv4");
}

/**
 * The client's address: the TCP peer, unless the peer is a trusted proxy; then X-Forwarded-For is read from
 * its right end (what the nearest proxy appended) leftwards, past every trusted proxy, and the first address
 * that is not one is the client. Entries left of it were written by the client and are never read. An entry
 * that is not an address stops the walk at the proxy that passed it on.
 */
export function resolveClientAddress(input: { peer: string | null; forwardedFor: string | null; trusted: BlockList }): string {
  let client = input.peer ? plainAddress(input.peer) : "";
  if (!client) return "unknown";
  const hops = (input.forwardedFor ?? "").split(",").map(plainAddress).filter(Boolean);
  while (isTrusted(input.trusted, client) && hops.length) {
    const next = hops.pop()!;
    if (!isIP(next)) break;
    client = next;
  }
  return client;
}

/**
 * Whether the client reached Canopy over https (the session cookie is then Secure): the connection's own
 * protocol, unless the peer is a trusted proxy; then the nearest proxy's X-Forwarded-Proto (its right-most
 * entry) says. A client's own X-Forwarded-Proto is never believed: "http" sent through an https proxy that
 * appends would otherwise take Secure off the cookie. Without a peer (no Canopy web server in front), "http".
 */
export function resolveProtocol(input: {
  peer: string | null;
  peerProtocol: string | null;
  forwardedProto: string | null;
  trusted: BlockList;
}): "https" | "http" {
  const peer = input.peer ? plainAddress(input.peer) : "";
  if (!peer) return "http";
  const forwarded = (input.forwardedProto ?? "").split(",").map((p) => p.trim().toLowerCase()).filter(Boolean);
  const said = isTrusted(input.trusted, peer) && forwarded.length ? forwarded[forwarded.length - 1] : input.peerProtocol;
  return said === "https" ? "https" : "http";
}

/**
 * What the login limits count an address under: an IPv4 address itself, an IPv6 address's /64 (one host
 * usually holds a whole /64, so counting single IPv6 addresses would give it 2^64 fresh ones).
 */
export function addressBucket(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head = "", tail] = address.toLowerCase().split("%")[0]!.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const groupCount = (groups: string[]) => groups.reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
  const zeros = tail === undefined ? 0 : 8 - groupCount(headGroups) - groupCount(tailGroups);
  const groups = [...headGroups, ...Array<string>(zeros).fill("0"), ...tailGroups];
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(":")}::/64`;
}
